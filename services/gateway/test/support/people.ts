import { ContractError } from '@heroagent/contracts';
import type { OidcDoubleUser } from '@heroagent/doubles';

let counter = 0;

/** A new person for the identity provider double: a subject and an email no test has used. */
export function person(name = 'someone'): Required<Pick<OidcDoubleUser, 'sub' | 'email' | 'name'>> {
  counter += 1;
  return { sub: `sub-${name}-${counter}`, email: `${name}${counter}@example.com`, name };
}

/** The code a request is refused with, or 'OK'. */
export async function codeOf(request: Promise<unknown>): Promise<string> {
  try {
    await request;
    return 'OK';
  } catch (error) {
    if (error instanceof ContractError) return error.code;
    throw error;
  }
}
