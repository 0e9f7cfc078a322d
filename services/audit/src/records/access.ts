import { ContractError, type Viewer } from '@heroagent/contracts';

/** Owners, admins and auditors see the whole tenant record; members only their own events. */
export function seesWholeTenant(viewer: Viewer): boolean {
  return viewer.role === 'owner' || viewer.role === 'admin' || viewer.role === 'auditor';
}

/** Throws FORBIDDEN unless the viewer sees the whole tenant record. */
export function requireWholeTenant(viewer: Viewer, what: string): void {
  if (!seesWholeTenant(viewer))
    throw new ContractError('FORBIDDEN', `only owners, admins and auditors may ${what}`);
}

/** Throws FORBIDDEN unless the viewer may change the tenant's audit settings (auditors only read). */
export function requireAdministrator(viewer: Viewer, what: string): void {
  if (viewer.role !== 'owner' && viewer.role !== 'admin')
    throw new ContractError('FORBIDDEN', `only owners and admins may ${what}`);
}
