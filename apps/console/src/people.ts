import type { listMembers, RouteResponse } from '@heroagent/contracts';
import { api } from './api.js';
import { canOversee, useSession } from './session.js';
import { useLoad } from './ui.js';

/**
 * Names people by email where the viewer may list the tenant's members (owners, admins,
 * auditors); anyone else, and anyone unknown, by user id. The viewer is `self`.
 */
export function usePeople(self: string): (userId: string) => string {
  const session = useSession();
  const overseer = canOversee(session);
  const members = useLoad(
    () =>
      overseer
        ? api<RouteResponse<typeof listMembers>>('GET', '/v1/tenant/members')
        : Promise.resolve({ members: [] }),
    [overseer],
  );
  return (userId) =>
    userId === session.user.id
      ? self
      : (members.data?.members.find((member) => member.userId === userId)?.email ?? userId);
}
