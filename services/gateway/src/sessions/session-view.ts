import { ContractError, type RouteResponse, type getSession } from '@heroagent/contracts';
import type { ResolvedSession } from './sessions.repository.js';
import { csrfTokenOf } from './secrets.js';
import type { SessionsService } from './sessions.service.js';

/** What a signed-in browser learns about its session, including its CSRF token. */
export function sessionView(
  session: ResolvedSession,
  secret: string,
): RouteResponse<typeof getSession> {
  return {
    user: { id: session.userId, email: session.email, displayName: session.displayName },
    tenant: session.tenant,
    csrfToken: csrfTokenOf(secret),
    expiresAt: session.expiresAt.toISOString(),
    idleExpiresAt: session.idleExpiresAt.toISOString(),
  };
}

/** The session as it is now (after a change of tenant, say). */
export async function currentSessionView(
  sessions: SessionsService,
  secret: string,
): Promise<RouteResponse<typeof getSession>> {
  const session = await sessions.resolve(secret);
  if (session === undefined) throw new ContractError('UNAUTHENTICATED', 'the session ended');
  return sessionView(session, secret);
}
