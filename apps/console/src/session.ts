import type { getSession, RouteResponse } from '@heroagent/contracts';
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export type Session = RouteResponse<typeof getSession>;

export const SessionContext = createContext<Session | undefined>(undefined);

/** The signed-in person's session; pages render only inside one. */
export function useSession(): Session & { tenant: NonNullable<Session['tenant']> } {
  const session = useContext(SessionContext);
  if (session?.tenant === null || session?.tenant === undefined) {
    throw new Error('no tenant in this session');
  }
  return session as Session & { tenant: NonNullable<Session['tenant']> };
}

/** Owners and admins change the tenant; auditors read everything and change nothing. */
export function canManage(session: Session): boolean {
  return session.tenant?.role === 'owner' || session.tenant?.role === 'admin';
}

export function canOversee(session: Session): boolean {
  return canManage(session) || session.tenant?.role === 'auditor';
}
