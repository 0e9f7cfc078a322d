/** An error the gateway answered with: its code (from the contracts), a sentence, and for bad input the issues. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken = '';

/** The CSRF token of the session, sent back with every request that changes something. */
export function useCsrfToken(token: string): void {
  csrfToken = token;
}

/** Calls the gateway's API on this origin with the session cookie; a coded error becomes an ApiError. */
export async function api<T>(
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH',
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const parsed: unknown = text === '' ? undefined : safeJson(text);
  if (!response.ok) {
    const error = (parsed ?? {}) as {
      code?: string;
      message?: string;
      issues?: { path: string; message: string }[];
    };
    throw new ApiError(
      response.status,
      error.code ?? 'INTERNAL',
      error.message ?? `the gateway answered ${response.status}`,
      error.issues ?? [],
    );
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A query string from the defined values of an object. */
export function query(values: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
