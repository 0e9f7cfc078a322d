import type { Sealer } from './personal-keys.js';

/** What a sealed text column reads as once its owner's key was erased. */
export const ERASED_TEXT = '[erased]';

/**
 * The gateway's columns that hold a person's words or content, sealed with that person's data key
 * (privacy/personal-keys.ts): what they asked, what the agent reported and why it acted, what an
 * action was given and what it brought back. Text columns hold the ciphertext; JSON columns hold
 * it as a JSON string, so their type is unchanged. A policy's reason is sealed too: it may name
 * what it is about (an address found in a mail). Everything else in these tables is ids, codes,
 * counts, amounts and times.
 */
export const SEALED_COLUMNS = {
  tasks: { text: ['title', 'request', 'summary', 'account', 'stop_reason'], json: [] },
  task_events: { text: [], json: ['body'] },
  actions: {
    text: ['rationale'],
    json: ['params', 'result', 'undo_state', 'untrusted', 'policy'],
  },
  approvals: { text: ['reason'], json: ['decisions'] },
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
  return opened as R;
}

export type { JsonColumn, TextColumn };
