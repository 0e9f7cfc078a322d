import { ERASED, type Sealer } from './personal-keys.js';

/** What a sealed text column reads as once its owner's key was erased. */
export const ERASED_TEXT = '[erased]';

/**
 * The gateway's columns that hold a person's words or content, sealed with that person's data key
 * (privacy/personal-keys.ts): what they asked and allowed, what the agent reported and why it
 * acted, what an action was given and what it brought back, and why it failed. Text columns hold
 * the ciphertext; JSON columns hold it as a JSON string, so their type is unchanged. A policy's
 * reason is sealed too: it may name what it is about (an address found in a mail). A coded
 * column is a JSON error whose `code` stays in clear and whose whole value is sealed beside it
 * (`sealed`): a provider's message may repeat what it was sent. An error the gateway words itself
 * (a sweep's, a stop's) is written in clear, without `sealed`. Everything else in these tables is
 * ids, codes, counts, amounts and times.
 */
export const SEALED_COLUMNS = {
  tasks: {
    text: ['title', 'request', 'summary', 'account', 'stop_reason'],
    json: ['limits'],
    coded: [],
  },
  task_events: { text: [], json: ['body'], coded: [] },
  actions: {
    text: ['rationale'],
    json: ['params', 'result', 'undo_state', 'untrusted', 'policy'],
    coded: ['error'],
  },
  approvals: { text: ['reason'], json: ['decisions'], coded: [] },
} as const;

type SealedTable = keyof typeof SEALED_COLUMNS;
type TextColumn<T extends SealedTable> = (typeof SEALED_COLUMNS)[T]['text'][number];
type JsonColumn<T extends SealedTable> = (typeof SEALED_COLUMNS)[T]['json'][number];

/** The context of one sealed cell: its table, column and row. */
function cell(table: string, column: string, row: string): string {
  return `gateway.${table}.${column}:${row}`;
}

/**
 * The values of a row about to be written with its personal columns sealed: a text column's
 * string, a JSON column's JSON text (as the repositories write them). Null and absent stay so.
 */
export function sealValues<T extends SealedTable, V extends Record<string, unknown>>(
  sealer: Sealer,
  table: T,
  row: string,
  values: V,
): V {
  const columns = SEALED_COLUMNS[table];
  const sealed: Record<string, unknown> = { ...values };
  for (const column of columns.text as readonly string[]) {
    const value = values[column];
    if (typeof value === 'string') sealed[column] = sealer.seal(cell(table, column, row), value);
  }
  for (const column of columns.json as readonly string[]) {
    const value = values[column];
    if (typeof value === 'string') {
      sealed[column] = JSON.stringify(sealer.seal(cell(table, column, row), value));
    }
  }
  for (const column of columns.coded as readonly string[]) {
    const value = values[column];
    if (typeof value === 'string') {
      const { code } = JSON.parse(value) as { code?: unknown };
      sealed[column] = JSON.stringify({
        code: typeof code === 'string' ? code : 'INTERNAL',
        sealed: sealer.seal(cell(table, column, row), value),
      });
    }
  }
  return sealed as V;
}

/** What a text column of a stored row says, once opened. */
export function openText<T extends SealedTable>(
  sealer: Sealer,
  table: T,
  column: TextColumn<T>,
  row: string,
  stored: string,
): string {
  const text = sealer.open(cell(table, column, row), stored);
  return typeof text === 'string' ? text : ERASED_TEXT;
}

/**
 * A stored row with its personal columns opened (JSON ones parsed). Once the owner's key is
 * erased, text columns read ERASED_TEXT and JSON ones ERASED.
 */
export function openRow<T extends SealedTable, R extends Record<string, unknown>>(
  sealer: Sealer,
  table: T,
  row: string,
  stored: R,
): R {
  const columns = SEALED_COLUMNS[table];
  const opened: Record<string, unknown> = { ...stored };
  for (const column of columns.text as readonly string[]) {
    const value = stored[column];
    if (typeof value === 'string') {
      const text = sealer.open(cell(table, column, row), value);
      opened[column] = typeof text === 'string' ? text : ERASED_TEXT;
    }
  }
  for (const column of columns.json as readonly string[]) {
    const value = stored[column];
    if (value !== null && value !== undefined) {
      opened[column] = sealer.openJson(cell(table, column, row), value);
    }
  }
  for (const column of columns.coded as readonly string[]) {
    const value = stored[column] as { code?: unknown; sealed?: unknown } | null | undefined;
    if (typeof value?.sealed === 'string') {
      const error = sealer.openJson(cell(table, column, row), value.sealed);
      opened[column] = error === ERASED ? { code: value.code, message: ERASED_TEXT } : error;
    }
  }
  return opened as R;
}

export type { JsonColumn, TextColumn };
