import {
  applyDecorators,
  createParamDecorator,
  Delete,
  Get,
  HttpCode,
  Patch,
  Post,
  SetMetadata,
  type ExecutionContext,
} from '@nestjs/common';
import { Throttle } from '@nestjs/throttler';
import type { Request } from 'express';
import { ContractError, type HttpRoute, type RouteInput } from '@heroagent/contracts';
import type { ResolvedSession } from '../sessions/sessions.repository.js';

/** Metadata key under which a handler's route contract is kept. */
export const ROUTE_METADATA = 'heroagent:http-route';

/**
 * Serves a handler at a route contract: method, path, status and rate limit come from it, and
 * the edge guard enforces its access rule and validates its input before the handler runs.
 */
export function Route(route: HttpRoute): MethodDecorator {
  const mapping = { GET: Get, POST: Post, PATCH: Patch, DELETE: Delete }[route.method];
  const decorators = [mapping(route.path), SetMetadata(ROUTE_METADATA, route)];
  if (route.outcome.kind === 'json') decorators.push(HttpCode(route.outcome.status));
  if (route.outcome.kind === 'no-content') decorators.push(HttpCode(204));
  // A download's handler returns a StreamableFile: Nest streams it, and destroys the connection
  // if the stream fails after the first byte.
  if (route.outcome.kind === 'download') decorators.push(HttpCode(200));
  if (route.rateLimitPerMinute !== undefined) {
    decorators.push(Throttle({ default: { limit: route.rateLimitPerMinute, ttl: 60_000 } }));
  }
  return applyDecorators(...decorators);
}

/** What the edge guard established about a request before its handler runs. */
export interface Edge<R extends HttpRoute = HttpRoute> {
  readonly route: R;
  readonly input: RouteInput<R>;
  /** The live session, on routes that are not public. */
  readonly session: ResolvedSession | undefined;
  /** The session cookie's secret as presented (public routes too): rotated away at sign-in. */
  readonly presentedSessionSecret: string | undefined;
  readonly request: Request;
}

const edges = new WeakMap<Request, Edge>();

export function attachEdge(request: Request, edge: Edge): void {
  edges.set(request, edge);
}

/** The handler's {@link Edge}: `@EdgeOf() edge: Edge<typeof someRoute>`. */
export const EdgeOf = createParamDecorator((_: unknown, context: ExecutionContext): Edge => {
  const edge = edges.get(context.switchToHttp().getRequest<Request>());
  if (edge === undefined) throw new ContractError('INTERNAL', 'the edge guard did not run');
  return edge;
});

/** The signed-in person of a route that requires one. */
export function signedIn(edge: Edge): ResolvedSession {
  if (edge.session === undefined) throw new ContractError('UNAUTHENTICATED', 'sign in first');
  return edge.session;
}

/** The signed-in person and the tenant they act in, on a route that requires a role. */
export function inTenant(
  edge: Edge,
): ResolvedSession & { tenant: NonNullable<ResolvedSession['tenant']> } {
  const session = signedIn(edge);
  if (session.tenant === null) throw new ContractError('FORBIDDEN', 'choose a tenant first');
  return session as ResolvedSession & { tenant: NonNullable<ResolvedSession['tenant']> };
}

/** Owners and admins manage a tenant: others' connections, tasks, approvals and actions too. */
export function managesTenant(session: { tenant: { role: string } }): boolean {
  return session.tenant.role === 'owner' || session.tenant.role === 'admin';
}

/** Whether the session sees the whole tenant: owners, admins and auditors (who only read). */
export function overseesTenant(session: { tenant: { role: string } }): boolean {
  return managesTenant(session) || session.tenant.role === 'auditor';
}
