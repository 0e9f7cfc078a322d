/** What replaces a secret in a log line. */
export const REDACTED = '[REDACTED]';

// Field names whose values are secret whatever they hold.
const SECRET_FIELD =
  /(pass(word|phrase)?|secret|token|authorization|cookie|credential|api[-_]?key|private[-_]?key|signing[-_]?key|sealing[-_]?key|client[-_]?secret|refresh|session[-_]?id|seed|^key$|^dek$|^kek$|auth(orization)?[-_]?code|code[-_]?verifier)/i;
// Field names that look secret but only name or count a secret.
const SAFE_FIELD =
  /^(token[-_]?type|tokens?[-_]?count|kid|key[-_]?id|idempotency[-_]?key|max[-_]?tokens|.*_at|.*At)$/i;

// Secrets recognisable by their shape, wherever they appear in a string.
const SECRET_VALUE_PATTERNS: RegExp[] = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi,
  /\bya29\.[A-Za-z0-9._-]+/g, // Google OAuth access token
  /\b1\/\/[A-Za-z0-9._-]{10,}/g, // Google OAuth refresh token
  /\bhv[sbr]\.[A-Za-z0-9_-]{10,}/g, // Vault service, batch and recovery tokens
  /\beyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g, // JWT
  /\b(gh[pousr]_|xox[abp]-|sk-)[A-Za-z0-9_-]{10,}/g, // GitHub, Slack, OpenAI-style API keys
];
// OAuth and API secrets passed as URL query or form parameters.
const SECRET_PARAMETERS =
  /([?&](?:code|state|invitation|access_token|refresh_token|id_token|client_secret|token|password)=)[^&\s"']+/gi;
// user:password@ in URLs (postgres://, nats://, https://…).
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+):[^@\s/]+@/gi;

/** Replaces every recognisable secret inside a string. */
export function redactString(text: string): string {
  let result = text
    .replace(URL_CREDENTIALS, `$1:${REDACTED}@`)
    .replace(SECRET_PARAMETERS, `$1${REDACTED}`);
  for (const pattern of SECRET_VALUE_PATTERNS) result = result.replace(pattern, REDACTED);
  return result;
}

/** True when a field of this name must never be logged in clear. */
export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name) && !SAFE_FIELD.test(name);
}

/**
 * A deep copy of `value` fit for a log line: secret fields replaced whole, secret-looking
 * substrings replaced in every other string, buffers never printed. Cycles are cut.
 */
export function redactSecrets(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, seen));
  if (value instanceof Error) {
    const code: unknown = (value as Error & { code?: unknown }).code;
    return {
      type: value.name,
      message: redactString(value.message),
      ...(typeof code === 'string' ? { code } : {}),
      stack: value.stack === undefined ? undefined : redactString(value.stack),
    };
  }
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Map) return redactSecrets(Object.fromEntries(value), seen);
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    result[key] =
      isSecretField(key) && item !== undefined && item !== null
        ? REDACTED
        : redactSecrets(item, seen);
  }
  return result;
}
