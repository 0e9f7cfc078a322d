import { header, plainText, type MessagePart } from './gmail-mime.js';

/**
 * The part of Gmail's search syntax (https://support.google.com/mail/answer/7190) the double
 * understands: `from:` `to:` `cc:` `bcc:` `subject:` `label:` `is:` `in:` `after:` `before:`
 * `newer_than:` `older_than:`, free words and "quoted phrases", `subject:(grouped words)` and `-`
 * to negate. Terms are ANDed; `OR`, `{}` and `has:` are not understood (such words are searched as
 * text). Matching is case-insensitive substring matching, looser than Gmail's word matching, and
 * dates are read in UTC where Gmail uses the account's time zone.
 */

export interface SearchableMessage {
  readonly labelIds: readonly string[];
  readonly internalDate: number;
  readonly payload: MessagePart;
}

export interface CompiledSearch {
  matches(message: SearchableMessage): boolean;
  /** `in:trash`, `in:spam` and `in:anywhere` search where a listing otherwise does not look. */
  readonly includesSpamTrash: boolean;
}

type Test = (message: SearchableMessage) => boolean;

const TERM = /(-?)(?:([a-z_]+):)?(?:"([^"]*)"|\(([^)]*)\)|([^\s()"]+))/gi;
const DAY = 24 * 60 * 60 * 1000;
const UNITS: Record<string, number> = { h: DAY / 24, d: DAY, m: 30 * DAY, y: 365 * DAY };

/** Compiles `q`; `labelId` maps a label name or id as written in `label:` to its id. */
export function compileSearch(
  q: string,
  labelId: (nameOrId: string) => string | undefined,
): CompiledSearch {
  const tests: Test[] = [];
  let includesSpamTrash = false;
  for (const [, negate, operator, quoted, grouped, bare] of q.matchAll(TERM)) {
    const value = (quoted ?? grouped ?? bare ?? '').toLowerCase();
    const op = operator?.toLowerCase();
    if (op === 'in' && ['trash', 'spam', 'anywhere'].includes(value)) includesSpamTrash = true;
    const test =
      (op === undefined ? undefined : operatorTest(op, value, labelId)) ??
      textTest(op === undefined ? value : `${op}:${value}`, quoted !== undefined);
    tests.push(negate === '-' ? (message) => !test(message) : test);
  }
  return { matches: (message) => tests.every((test) => test(message)), includesSpamTrash };
}

function operatorTest(
  op: string,
  value: string,
  labelId: (nameOrId: string) => string | undefined,
): Test | undefined {
  const has =
    (label: string): Test =>
    (message) =>
      message.labelIds.includes(label);
  switch (op) {
    case 'from':
    case 'to':
    case 'cc':
    case 'bcc': {
      const names = op === 'to' ? ['To', 'Cc', 'Bcc'] : [op];
      return (message) =>
        names.some((name) =>
          (header(message.payload.headers, name) ?? '').toLowerCase().includes(value),
        );
    }
    case 'subject':
      return (message) => {
        const subject = (header(message.payload.headers, 'Subject') ?? '').toLowerCase();
        return value.split(/\s+/).every((word) => subject.includes(word));
      };
    case 'label': {
      const id = labelId(value);
      return id === undefined ? () => false : has(id);
    }
    case 'is': {
      if (value === 'read') return (message) => !message.labelIds.includes('UNREAD');
      const label = { unread: 'UNREAD', starred: 'STARRED', important: 'IMPORTANT' }[value];
      return label === undefined ? undefined : has(label);
    }
    case 'in': {
      if (value === 'anywhere') return () => true;
      const label = value === 'drafts' ? 'DRAFT' : value.toUpperCase();
      return has(label);
    }
    case 'after':
    case 'before': {
      const at = parseDate(value);
      if (at === undefined) return undefined;
      return op === 'after'
        ? (message) => message.internalDate >= at
        : (message) => message.internalDate < at;
    }
    case 'newer_than':
    case 'older_than': {
      const match = /^(\d+)([hdmy])$/.exec(value);
      if (match === null) return undefined;
      const span = Number(match[1]) * (UNITS[match[2] ?? 'd'] ?? DAY);
      return op === 'newer_than'
        ? (message) => message.internalDate >= Date.now() - span
        : (message) => message.internalDate < Date.now() - span;
    }
    default:
      return undefined;
  }
}

function textTest(value: string, phrase: boolean): Test {
  const words = phrase ? [value] : value.split(/\s+/).filter(Boolean);
  return (message) => {
    const { headers } = message.payload;
    const haystack = [
      ...['From', 'To', 'Cc', 'Subject'].map((name) => header(headers, name) ?? ''),
      plainText(message.payload),
    ]
      .join('\n')
      .toLowerCase();
    return words.every((word) => haystack.includes(word));
  };
}

/** `2024/01/31`, `2024-01-31` or seconds since the epoch, as Gmail accepts them. */
function parseDate(value: string): number | undefined {
  if (/^\d{9,}$/.test(value)) return Number(value) * 1000;
  const match = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(value);
  return match === null
    ? undefined
    : Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}
