import { ContractError } from '@heroagent/contracts';

/**
 * Least privilege by default (DESIGN.md): the actions a task in words may take are read from the
 * person's request alone, before the agent has read anything, so content can never widen them —
 * a task that asks to read cannot trash, one about the calendar cannot send mail. Each action is
 * granted for words of the request, quoted back as the reason, so the person sees (and the
 * console shows, before the task starts) what the task may do and why. Pure.
 */

/** An action the request asks for, and the words that ask for it. */
export interface DerivedAction {
  readonly action: string;
  readonly because: string;
}

interface Rule {
  readonly actions: readonly string[];
  /** The words that grant it; the first that matches is quoted. */
  readonly words: RegExp;
  /** Only in this domain (the request must be about mail, or about the calendar). */
  readonly domain?: 'mail' | 'calendar';
}

// What makes a request about mail, or about the calendar. An address alone makes it about mail,
// and a day or a time about the calendar, only when nothing else speaks of the other (an
// invitation names addresses; a mail may name a day).
const MAIL =
  /\b(e-?mails?|mails?|inbox|messages?|repl(?:y|ies|ied)|respond|forward\w*|newsletters?|threads?|senders?|gmail|spam|junk|wrote|written|sent (?:me|it|them|us)|unread|attachments?|subject|receipts?|invoices?|confirmations?|notifications?|digests?|statements?|(?:board|meeting) minutes|reminders?|send (?:\w+ )?(?:a |an |the )?(?:note|message|mail|e-?mail|summary|reply))\b/;
const ADDRESS = /[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}/;
const WHEN =
  /\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight|next week|this week|\d{4}-\d\d-\d\d)\b/;
const CALENDAR =
  /\b(calendar|meetings?|meet|events?|schedul\w*|slots?|free|busy|availability|available|appointments?|invit\w*|book(?!ing)\w*|agenda|standups?|calls?|lunch|dinner|1:1|one-on-ones?|reschedul\w*|postpone\w*|minutes with|hours? with|\d{1,2}(?::\d\d)?\s?(?:am|pm)|\d{1,2}:\d\d)\b/;
// Someone named by name to meet ("lunch with Sarah"): their address is found in mail.
const BY_NAME = /\b(?:with|invite|and) ([A-Z][a-z]+)\b/;

// Drafting as something to do ("draft a reply", "save it as a draft"), not a thing named ("the
// contract draft").
const DRAFTING =
  /\b(draft (?:a|an|the|my|some|it|them|replies|responses)\b|drafts? (?:of|for)\b|(?:write|prepare|save|make|create|leave) (?:\w+ ){0,3}drafts?\b|as (?:a )?drafts?\b|prepare a (?:reply|mail|message))/;

const RULES: readonly Rule[] = [
  {
    actions: ['gmail.messages.send'],
    words:
      /\b(repl(?:y|ies)|respond|forward|e-?mail (?:me|him|her|them|[a-z0-9._%+-]+@\S+)|write (?:back )?to|let (?!me\b|us\b)\w+ know|tell (?!me\b|us\b|if\b|whether\b|what\b|how\b|when\b|who\b|where\b|why\b)\w+|say (?:hello|hi|thanks|thank you|yes|no|goodbye|congratulations|happy \w+) to|thank (?!you\b)\w+|send(?![^.]*\binvit))\b/,
  },
  { actions: ['gmail.drafts.create'], words: DRAFTING },
  {
    actions: ['gmail.messages.archive'],
    words: /\b(archiv\w*|clean up|clear out|out of (?:my |the )?inbox)\b/,
    domain: 'mail',
  },
  {
    actions: ['gmail.messages.trash'],
    words: /\b(trash|delete|remove|bin|get rid of|throw away|clean up|clear out)\b/,
    domain: 'mail',
  },
  {
    actions: ['gmail.messages.label'],
    words:
      /\b((?:label|tag|star|mark|flag)(?:s|ed|ing|red|ged|ged)?|file (?:it|them|under)|categori[sz]e)\b/,
    domain: 'mail',
  },
  {
    actions: ['calendar.events.create'],
    words:
      /\b(schedule|book|invite|set up|arrange|organi[sz]e|plan|add|create|put|block)\b|\bsend (?:\w+ )*?(?:an? )?invit\w*/,
    domain: 'calendar',
  },
  {
    actions: ['calendar.events.update'],
    words:
      /\b(move|reschedul\w*|change|rename|update|shift|postpone\w*|push|extend|shorten|(?:invite|add) \S+ to (?:my|the))(?=\s|$|[.,;])/,
    domain: 'calendar',
  },
  {
    actions: ['calendar.events.delete'],
    words: /\b(cancel|delete|remove|drop)\b/,
    domain: 'calendar',
  },
  {
    actions: ['purchase.create'],
    words: /\b(buy|purchase|pay for|re-?order|order (?:me|us|a|an|the|another|more|some|\d+))\b/,
  },
];

const SEND_ONLY = /\bsend(?![^.]*\binvit)\b/;
// A sentence that asks to know: a question opening on an auxiliary or a question word.
const QUESTION =
  /^(?:(?:so|and|but|also|please|hey|hi),?\s+)?(?:did|does|do|has|have|had|is|are|was|were|what|when|where|who|whom|which|why|how|whether|if|any|anything)\b[^?]*\?$/;

/** The sentences of a text: ended by a stop, a mark or a semicolon before a space (not in an address). */
function sentences(text: string): string[] {
  return text.split(/(?<=[.!?;])\s+/).map((sentence) => sentence.trim());
}
const MAIL_READS = ['gmail.messages.search', 'gmail.messages.read'];
const CALENDAR_READS = ['calendar.events.list', 'calendar.freebusy'];

/** The actions a request in words asks for, each with the words that ask for it. */
export function deriveActions(request: string): DerivedAction[] {
  // "Do not send it", "without replying": what the person forbids grants nothing.
  const text = request
    .toLowerCase()
    .replace(/\b(?:do not|don't|dont|never|without|no need to) (?:\w+ )?[a-z]+/g, ' ');
  const strongMail = MAIL.exec(text)?.[0];
  const calendar =
    CALENDAR.exec(text)?.[0] ?? (strongMail === undefined ? WHEN.exec(text)?.[0] : undefined);
  const mail = strongMail ?? (calendar === undefined ? ADDRESS.exec(text)?.[0] : undefined);
  const about = { mail, calendar };
  // Asked for a draft, the words of a reply or a forward describe the draft: only "send" sends.
  const drafting = DRAFTING.test(text);
  const derived = new Map<string, string>();
  const grant = (actions: readonly string[], because: string) => {
    for (const action of actions) if (!derived.has(action)) derived.set(action, because);
  };
  // A question asks to know, not to act ("did Bob reply?", "is my calendar clear?"); a request
  // put as a question ("can you reply to Bob?") still asks to act.
  const asked = sentences(text)
    .filter((sentence) => !QUESTION.test(sentence))
    .join(' ');
  for (const rule of RULES) {
    if (rule.domain !== undefined && about[rule.domain] === undefined) continue;
    const pattern =
      drafting && rule.actions.includes('gmail.messages.send') ? SEND_ONLY : rule.words;
    const words = pattern.exec(asked)?.[0];
    if (words !== undefined) grant(rule.actions, `"${words.trim()}"`);
  }
  // Writing to, or about, mail needs finding and reading it; so does a request about mail, or a
  // purchase of something a mail recommends. The same for the calendar.
  const writesMail = [...derived.keys()].some((action) => action.startsWith('gmail.'));
  if (about.mail !== undefined || writesMail) {
    grant(
      MAIL_READS,
      about.mail === undefined ? 'to find what it writes about' : `"${about.mail}"`,
    );
  }
  const writesCalendar = [...derived.keys()].some((action) => action.startsWith('calendar.'));
  // Buying again what was bought before needs the receipt, which is in mail.
  if (derived.has('purchase.create') && /\b(re-?order|again|last|previous(?:ly)?)\b/.test(text)) {
    grant(MAIL_READS, 'to find what was bought before');
  }
  // Inviting someone named only by name needs their address, which is in mail.
  const inviting = derived.has('calendar.events.create');
  const named = inviting ? BY_NAME.exec(request.replace(/^\w+/, ''))?.[1] : undefined;
  if (named !== undefined) grant(MAIL_READS, `to find ${named}'s address`);
  if (about.calendar !== undefined || writesCalendar) {
    grant(
      CALENDAR_READS,
      about.calendar === undefined ? 'to see the calendar it changes' : `"${about.calendar}"`,
    );
  }
  // A request that names nothing HeroAgent can do may still be answered from reading.
  if (derived.size === 0) {
    grant([...MAIL_READS, ...CALENDAR_READS], 'nothing more specific was asked: reading only');
  }
  return [...derived].map(([action, because]) => ({ action, because }));
}

/** How a task's actions were chosen (see the task routes' `scope`). */
export type TaskScope = 'derived' | 'listed' | 'broad';

/**
 * The actions a new task may take. With a request in words: what the request asks for, within
 * the actions listed if any — or, with `broad`, the listed ones (an owner's or admin's explicit
 * choice). Without a request an API client drives the task: the listed ones. Refuses a broad
 * capability to anyone else, and a request that asks for none of the listed actions.
 */
export function chooseActions(
  asked: {
    readonly request?: string | undefined;
    readonly actions?: readonly string[] | undefined;
    readonly scope: 'derived' | 'broad';
  },
  role: 'owner' | 'admin' | 'member' | 'auditor',
): { actions: string[]; scope: TaskScope; derived: DerivedAction[] } {
  const listed = [...new Set(asked.actions ?? [])];
  if (asked.request === undefined) return { actions: listed, scope: 'listed', derived: [] };
  const derived = deriveActions(asked.request);
  if (asked.scope === 'broad') {
    if (role !== 'owner' && role !== 'admin') {
      throw new ContractError(
        'FORBIDDEN',
        'only an owner or admin may give a task a broad capability',
      );
    }
    return { actions: listed, scope: 'broad', derived };
  }
  const within =
    asked.actions === undefined ? derived : derived.filter((d) => listed.includes(d.action));
  if (within.length === 0) {
    throw new ContractError('INVALID_REQUEST', 'the request asks for none of the listed actions', [
      {
        path: 'body.actions',
        message: `the request asks for ${derived.map((d) => d.action).join(', ')}`,
      },
    ]);
  }
  return { actions: within.map((d) => d.action), scope: 'derived', derived: within };
}
