import { type z } from 'zod';
import { ContractError } from '@heroagent/contracts';

/** Encodes a pagination position as an opaque base64url token. */
export function encodeCursor(value: Record<string, number>): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Decodes a cursor against its schema; anything else is INVALID_REQUEST. */
export function decodeCursor<S extends z.ZodType>(cursor: string, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new ContractError('INVALID_REQUEST', 'the cursor is not one this service issued', [
      { path: 'cursor', message: 'invalid' },
    ]);
  return parsed.data;
}
