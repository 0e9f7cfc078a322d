import { ContractError } from '@heroagent/contracts';
import { SecretsError } from './secrets-backend.js';

/**
 * Runs a secrets-backend call and turns its failures into contract errors: anything that means
 * the store cannot be trusted to answer (sealed, unreachable, refused, warned) fails closed as
 * SECRETS_UNAVAILABLE.
 */
export async function fromSecrets<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof SecretsError)) throw error;
    if (error.code === 'NOT_FOUND') throw new ContractError('NOT_FOUND', error.message);
    if (error.code === 'INVALID') throw error;
    throw new ContractError('SECRETS_UNAVAILABLE', 'the secrets store is unavailable');
  }
}
