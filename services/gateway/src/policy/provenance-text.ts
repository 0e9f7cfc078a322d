/**
 * How provenance reads text: whole-value mentions, addresses, the words that point at a message
 * or an event, distinctive tokens and copied runs of words, money and times named in a request.
 * Pure functions over strings.
 */

export const EMAIL = /[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}/gi;
/** A link as a mail client would make one clickable: with a scheme, `www.`, or a host and a path. */
export const LINK =
  /\b(?:https?:\/\/|www\.)[^\s<>"')\]]+|(?<![@\w.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\/[^\s<>"')\]]*/gi;

/** Text as compared: full-width and other compatibility forms folded (NFKC). */
export function folded(text: string): string {
  return text.normalize('NFKC');
}

// Words that point at nothing in particular: they never make a message "the one meant".
const VAGUE = new Set(
  `about after again all also and any are back been before being below between both but can
  could did does doing down during each email emails event events find for from further had has
  have having her here hers him his how inbox into its just last latest mail mails meeting
  meetings message messages more most next not now off once only other our out over own please
  same she should some such than that the their them then there these they this those through
  today tomorrow too under until very was week were what when where which while who whom why
  will with would you your yours yesterday calendar send reply forward archive trash label
  delete remove cancel move schedule invite create update change tell write draft read check
  find look show summarise summarize buy order purchase monday tuesday wednesday thursday friday
  saturday sunday morning afternoon evening day hour hours minute minutes`.split(/\s+/),
);

export const lower = (value: string) => value.toLowerCase();

/** Whether `text` names `value` as a whole (so `bob@x.io` is not found in `bob@x.io.evil`). */
export function mentions(text: string, value: string): boolean {
  const needle = lower(value);
  const haystack = lower(text);
  if (needle.length === 0) return false;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) {
    const before = at === 0 ? '' : haystack[at - 1]!;
    const after = haystack.slice(at + needle.length, at + needle.length + 2);
    if (
      !/[\p{L}\p{N}@._%+-]/u.test(before) &&
      !/^[\p{L}\p{N}@_-]/u.test(after) &&
      !/^\.[\p{L}\p{N}]/u.test(after)
    ) {
      return true;
    }
  }
  return false;
}

export function addressesIn(text: string): string[] {
  return [...text.matchAll(EMAIL)].map((match) => lower(match[0]));
}

/** The words of a text, lower-cased. */
export function words(text: string): string[] {
  return lower(folded(text)).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * The people a request names by name as someone to write to or meet: a capitalised name after
 * "to", "tell", "invite", "with", "ask", "thank", "cc" and the like ("reply to Priya's mail",
 * "lunch with Sarah"), as the stems it is compared by.
 */
export function addresseeNames(request: string): Set<string> {
  const found = new Set<string>();
  const pattern =
    /\b(?:to|tell|invite|with|ask|thank|cc|email|e-mail|message|and)\s+(\p{Lu}[\p{L}-]+)/gu;
  for (const match of folded(request).matchAll(pattern)) found.add(stem(lower(match[1]!)));
  return found;
}

/** A word without its plural or verb ending, so "parcels" meets "parcel", "arrived" "arrive". */
export function stem(word: string): string {
  for (const ending of ['ies', 'es', 'ing', 'ed', 's']) {
    if (word.endsWith(ending) && word.length - ending.length >= 3) {
      return word.slice(0, -ending.length);
    }
  }
  return word;
}

/**
 * The stems of the request's words that could point at one message or event: not the vague ones,
 * not a year or a number of one or two digits (a date points at no mail).
 */
export function pointingStems(request: string): Set<string> {
  return new Set(
    words(request)
      .filter(
        (word) =>
          word.length >= 3 &&
          !VAGUE.has(word) &&
          !/^(?:\d{1,2}|(?:19|20)\d\d)$/.test(word) &&
          !/^\d{1,2}(?:am|pm)$/.test(word),
      )
      .map(stem),
  );
}

/**
 * Distinctive tokens: long numbers (also written with spaces or dashes, but not dates), codes
 * mixing letters and digits, addresses, links.
 */
export function distinctiveTokens(raw: string): Set<string> {
  const text = folded(raw);
  const found = new Set<string>();
  for (const match of text.matchAll(LINK)) found.add(lower(match[0]));
  for (const address of addressesIn(text)) found.add(address);
  for (const token of text.match(/[\p{L}\p{N}]+/gu) ?? []) {
    const digits = token.replace(/\D/g, '').length;
    if (/^\d{5,}$/.test(token) || (token.length >= 8 && digits >= 2 && digits < token.length)) {
      found.add(lower(token));
    }
  }
  // Digits one separator apart read as one number: "5 8 2 9 3 1", "582-931", "58.29.31".
  for (const match of text.matchAll(/\d(?:[\s.,\u00a0-]?\d){4,}/g)) {
    if (isDate(match[0])) continue;
    found.add(match[0].replace(/\D/g, ''));
  }
  return found;
}

/** Whether digits read as a date, which is no secret: 2027-03-12, 12.03.2027, 3/12/27. */
function isDate(text: string): boolean {
  if (/^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/.test(text)) return true;
  const parts = /^(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})$/.exec(text);
  if (parts === null) return false;
  const [a, b] = [Number(parts[1]), Number(parts[2])];
  const dayMonth = (day: number, month: number) =>
    day >= 1 && day <= 31 && month >= 1 && month <= 12;
  return dayMonth(a, b) || dayMonth(b, a);
}

/** Runs of eight words, the shortest copy that is not a common phrase. */
export function shingles(text: string): Set<string> {
  const list = words(text);
  const found = new Set<string>();
  for (let i = 0; i + 8 <= list.length; i += 1) found.add(list.slice(i, i + 8).join(' '));
  return found;
}

const MONEY =
  /(?:[$€£]\s?(\d+(?:[.,]\d{1,2})?))|(?:\b(\d+(?:[.,]\d{1,2})?)\s?(?:usd|eur|gbp|dollars?|euros?|pounds?|bucks)\b)/gi;
// A ceiling the person sets for what is to be bought, not a statement of what was paid.
const CEILING = /\b(?:up to|at most|no more than|max(?:imum)?|within|a budget of)\s+$/i;

/**
 * The amounts (in minor units) a request names as money — "$12", "24.99 EUR", "7 dollars" — and
 * the ceiling it sets ("up to $30"), if any. A time ("12:30") or a date names no amount.
 */
export function moneyIn(request: string): { amounts: Set<number>; ceiling: number | undefined } {
  const amounts = new Set<number>();
  let ceiling: number | undefined;
  for (const match of request.matchAll(MONEY)) {
    const value = match[1] ?? match[2];
    if (value === undefined) continue;
    const minor = Math.round(Number(value.replace(',', '.')) * 100);
    amounts.add(minor);
    if (CEILING.test(request.slice(0, match.index))) {
      ceiling = Math.max(ceiling ?? 0, minor);
    }
  }
  return { amounts, ceiling };
}

/** The times of day a request names ("3pm", "15:00", "at 9"), as minutes after midnight. */
export function timesIn(request: string): Set<number> {
  const found = new Set<number>();
  for (const match of request.matchAll(/\b(\d{1,2})(?::(\d\d))?\s?(am|pm)\b/gi)) {
    const hour = (Number(match[1]) % 12) + (lower(match[3]!) === 'pm' ? 12 : 0);
    found.add(hour * 60 + Number(match[2] ?? 0));
  }
  for (const match of request.matchAll(/\b(\d{1,2}):(\d\d)\b(?!\s?(?:am|pm))/gi)) {
    found.add(Number(match[1]) * 60 + Number(match[2]));
  }
  return found;
}

/** The time of day of an instant in a time zone, as minutes after midnight (undefined if unreadable). */
export function timeOfDay(instant: string, timeZone: string): number | undefined {
  const date = new Date(instant);
  if (Number.isNaN(date.getTime()) || !instant.includes('T')) return undefined;
  try {
    const parts = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).formatToParts(date);
    const hour = Number(parts.find((part) => part.type === 'hour')?.value);
    const minute = Number(parts.find((part) => part.type === 'minute')?.value);
    return Number.isInteger(hour) && Number.isInteger(minute) ? hour * 60 + minute : undefined;
  } catch {
    return undefined;
  }
}
