/**
 * Every way libs/db refuses its input:
 * - `INVALID_ROLE`: a role that does not exist, is named twice, or may not run migrations;
 * - `UNSAFE_ROLE`: a role a service or job would run as that is a superuser, bypasses row-level
 *   security, owns (or may create in, or is a member of the owner of) the schema;
 * - `NOT_MIGRATED`: the schema lacks a migration the service knows (run the migrate step).
 */
export type DatabaseErrorCode =
  | 'INVALID_TENANT_ID'
  | 'INVALID_IDENTIFIER'
  | 'INVALID_ROLE'
  | 'UNSAFE_ROLE'
  | 'NOT_MIGRATED'
  | 'MIGRATION_FAILED';

/** The one exception type of libs/db. */
export class DatabaseError extends Error {
  constructor(
    readonly code: DatabaseErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatabaseError';
  }
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Returns `name` double-quoted for SQL, after checking it is a plain lower-case identifier. */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new DatabaseError(
      'INVALID_IDENTIFIER',
      `"${name}" is not a plain lower-case SQL identifier`,
    );
  }
  return `"${name}"`;
}
