import type { DataKind } from '@heroagent/contracts';

/** A JSON value as tool results and tool arguments are. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

type PlaceholderKind = 'EMAIL' | 'PHONE' | 'NAME' | 'BODY';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
// Groups of 2–4 digits with separators, optionally a +country code or an (area code): 8–15 digits.
const PHONE =
  /(?<![\w+-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}(?![\w-])/g;
const DATE_LIKE = /^\d{4}-\d{2}-\d{2}$/;
/** Anything that looks like one of our placeholders. */
const PLACEHOLDER = /\[(?:EMAIL|PHONE|NAME|BODY)_\d+(?:_GIVEN|_FAMILY)?\]/g;
/** Free text fields: message bodies, snippets, event descriptions. */
const BODY_FIELDS = new Set(['body', 'snippet', 'description']);
/** Header fields whose display names are people's names. */
const ADDRESS_FIELDS = new Set(['from', 'to', 'cc', 'bcc', 'replyTo', 'organizer']);

/** How a model sees personal data: all of it (a local model), or placeholders (a cloud model). */
export interface PrivacyMode {
  readonly redact: boolean;
  /** With `redact`, whether message bodies and event descriptions still go in clear. */
  readonly bodiesInClear: boolean;
}

/**
 * Replaces personal data with placeholders before text goes to a cloud model, and puts it back in
 * what the model answers. The same value always gets the same placeholder within a task, so the
 * model can still say "reply to [EMAIL_2]" or "forward [BODY_1]" without ever seeing them. It also
 * keeps account of which kinds of personal data the model saw in clear and which it saw replaced.
 *
 * Text that already looks like a placeholder (say, planted in a mail) is defused first, so only
 * placeholders this redactor made are ever restored.
 */
export class Redactor {
  private readonly placeholders = new Map<string, string>();
  private readonly originals = new Map<string, string>();
  private readonly counters: Record<PlaceholderKind, number> = {
    EMAIL: 0,
    PHONE: 0,
    NAME: 0,
    BODY: 0,
  };
  /** Known names, longest first, with their placeholder. */
  private names: { name: string; pattern: RegExp; placeholder: string }[] = [];
  private readonly seen = new Set<DataKind>();
  private readonly replaced = new Set<DataKind>();

  constructor(private readonly mode: PrivacyMode) {}

  /** Kinds of personal data the model saw in clear, so far. */
  sawInClear(): DataKind[] {
    return [...this.seen].sort();
  }

  /** Kinds of personal data the model saw only as placeholders, so far. */
  sawRedacted(): DataKind[] {
    return [...this.replaced].filter((kind) => !this.seen.has(kind)).sort();
  }

  /** Records that the model is sent a kind of data that is not redacted (task text, metadata…). */
  noteClear(kind: DataKind): void {
    this.seen.add(kind);
  }

  /**
   * Learns people's names from address headers ("Bob Jones <bob@example.com>"), so that from now
   * on they are replaced wherever they appear, including in the person's own request.
   */
  learnNamesFrom(value: Json): void {
    walk(value, (key, text) => {
      if (key === undefined || !ADDRESS_FIELDS.has(key)) return;
      for (const name of displayNames(text)) this.learnName(name);
    });
  }

  /**
   * Learns the names in the person's own request before the model sees it (nothing has been read
   * yet to learn them from): runs of capitalised words ("Bob Jones") and a capitalised word after
   * "with", "to", "invite"… ("with Bob"), less days, months and the words a request starts with.
   */
  learnNamesFromRequest(text: string): void {
    for (const name of namesInRequest(text)) this.learnName(name);
  }

  /** The person's request, as the model may see it. */
  text(text: string): string {
    return this.redactText(defuse(text));
  }

  /** A tool result, as the model may see it: free text fields whole, other strings word by word. */
  toolResult(value: Json): Json {
    this.learnNamesFrom(value);
    return mapStrings(value, (key, text) => {
      const clean = defuse(text);
      if (key !== undefined && BODY_FIELDS.has(key) && clean.length > 0) {
        if (this.mode.redact && !this.mode.bodiesInClear) {
          this.replaced.add('message_bodies');
          return this.placeholderFor('BODY', clean);
        }
        this.seen.add('message_bodies');
      }
      return this.redactText(clean);
    });
  }

  /** Puts the originals back into what the model said (text or tool arguments). */
  restore<T extends Json>(value: T): T {
    return mapStrings(value, (_key, text) =>
      text.replace(PLACEHOLDER, (placeholder) => this.originals.get(placeholder) ?? placeholder),
    ) as T;
  }

  private redactText(text: string): string {
    let out = text.replace(EMAIL, (email) => this.sensitive('EMAIL', 'email_addresses', email));
    out = out.replace(PHONE, (match) => {
      const digits = match.replace(/\D/g, '').length;
      if (digits < 8 || digits > 15 || DATE_LIKE.test(match)) return match;
      return this.sensitive('PHONE', 'phone_numbers', match);
    });
    for (const { pattern, placeholder } of this.names) {
      out = out.replace(pattern, (match) => {
        if (this.mode.redact) {
          this.replaced.add('contact_names');
          return placeholder;
        }
        this.seen.add('contact_names');
        return match;
      });
    }
    return out;
  }

  private sensitive(kind: PlaceholderKind, dataKind: DataKind, value: string): string {
    if (!this.mode.redact) {
      this.seen.add(dataKind);
      return value;
    }
    this.replaced.add(dataKind);
    return this.placeholderFor(kind, kind === 'EMAIL' ? value.toLowerCase() : value);
  }

  private placeholderFor(kind: PlaceholderKind, value: string): string {
    const key = `${kind}:${value}`;
    const existing = this.placeholders.get(key);
    if (existing !== undefined) return existing;
    this.counters[kind] += 1;
    const placeholder = `[${kind}_${this.counters[kind]}]`;
    this.placeholders.set(key, placeholder);
    this.originals.set(placeholder, value);
    return placeholder;
  }

  private learnName(full: string): void {
    if (this.placeholders.has(`NAME:${full}`)) return;
    const placeholder = this.placeholderFor('NAME', full);
    const parts = full.split(/\s+/);
    const entries = [{ name: full, placeholder }];
    const given = parts[0];
    const family = parts.length > 1 ? parts[parts.length - 1] : undefined;
    if (given !== undefined && parts.length > 1 && given.length >= 3) {
      entries.push({ name: given, placeholder: this.alias(placeholder, 'GIVEN', given) });
    }
    if (family !== undefined && family.length >= 3) {
      entries.push({ name: family, placeholder: this.alias(placeholder, 'FAMILY', family) });
    }
    for (const entry of entries) {
      if (this.names.some((known) => known.name.toLowerCase() === entry.name.toLowerCase()))
        continue;
      this.names.push({
        ...entry,
        pattern: new RegExp(`(?<![\\p{L}\\p{N}])${escape(entry.name)}(?![\\p{L}\\p{N}])`, 'giu'),
      });
    }
    this.names.sort((a, b) => b.name.length - a.name.length);
  }

  private alias(placeholder: string, part: 'GIVEN' | 'FAMILY', value: string): string {
    const alias = `${placeholder.slice(0, -1)}_${part}]`;
    this.originals.set(alias, value);
    return alias;
  }
}

const NOT_NAMES = new Set(
  (
    'monday tuesday wednesday thursday friday saturday sunday january february march april may june ' +
    'july august september october november december i the a an please hi hello dear tell ask send ' +
    'email mail find book buy invite schedule reply forward check what when where who why how my our ' +
    'your and or but then also next this that today tomorrow yesterday team thanks lunch meeting call ' +
    'can could would will let set move cancel add remove archive label read write draft order'
  ).split(' '),
);
const WORD = String.raw`\p{Lu}[\p{Ll}'’]+(?:-\p{Lu}?[\p{Ll}'’]+)*`;
const TRIGGER = /(?:with|to|from|for|invite|tell|ask|email|call|meet|cc|and)\s+$/iu;

/** Likely people's names in a request: see {@link Redactor.learnNamesFromRequest}. */
export function namesInRequest(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(new RegExp(`${WORD}(?:[ \t]+${WORD})*`, 'gu'))) {
    const words = match[0].split(/[ \t]+/);
    while (words.length > 0 && NOT_NAMES.has(words[0]!.toLowerCase())) words.shift();
    while (words.length > 0 && NOT_NAMES.has(words[words.length - 1]!.toLowerCase())) words.pop();
    if (words.length >= 2) {
      names.add(words.join(' '));
    } else if (words.length === 1) {
      const start = match.index + match[0].indexOf(words[0]!);
      if (TRIGGER.test(text.slice(Math.max(0, start - 12), start))) names.add(words[0]!);
    }
  }
  return [...names];
}

/** Plants of look-alike placeholders become harmless: `[EMAIL_1]` → `(EMAIL_1)`. */
function defuse(text: string): string {
  return text.replace(PLACEHOLDER, (match) => `(${match.slice(1, -1)})`);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Display names in an address header: `"Jones, Bob" <b@x>, Ann Lee <a@y>` → Bob Jones, Ann Lee. */
export function displayNames(header: string): string[] {
  const names: string[] = [];
  for (const match of header.matchAll(/(?:"([^"]+)"|([^,<>"]+?))\s*<[^>]+>/g)) {
    let name = (match[1] ?? match[2] ?? '').trim();
    if (name.includes(',')) {
      const [family, given] = name.split(',', 2).map((part) => part.trim());
      name = `${given} ${family}`;
    }
    if (name.length >= 3 && !name.includes('@') && /\p{L}/u.test(name)) names.push(name);
  }
  return names;
}

function walk(value: Json, visit: (key: string | undefined, text: string) => void, key?: string) {
  if (typeof value === 'string') visit(key, value);
  else if (Array.isArray(value)) for (const item of value) walk(item, visit, key);
  else if (value !== null && typeof value === 'object')
    for (const [name, item] of Object.entries(value)) walk(item, visit, name);
}

function mapStrings(
  value: Json,
  map: (key: string | undefined, text: string) => string,
  key?: string,
): Json {
  if (typeof value === 'string') return map(key, value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map, key));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => [name, mapStrings(item, map, name)]),
    );
  }
  return value;
}
