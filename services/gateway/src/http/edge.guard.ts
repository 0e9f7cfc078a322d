import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { z } from 'zod';
import {
  ContractError,
  toValidationIssues,
  type HttpRoute,
  type RouteInput,
  type ValidationIssue,
} from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import { csrfTokenMatches } from '../sessions/secrets.js';
import type { SessionsService } from '../sessions/sessions.service.js';
import type { Cookies } from './cookies.js';
import { attachEdge, ROUTE_METADATA } from './route.js';

/**
 * Every HTTP request passes here before its handler. In order:
 * 1. The handler must be bound to a route contract; one that is not is refused (404), so no
 *    route is ever served unguarded by accident.
 * 2. Access: a public route needs nothing; any other needs a live session; a role route needs a
 *    current tenant in which the person holds one of the roles.
 * 3. CSRF, for every method but GET: the request's Origin (when sent) must be ours, a browser's
 *    Sec-Fetch-Site (when sent) must be same-origin, and `x-csrf-token` must match the session.
 * 4. Input: path parameters, query and body are validated against the route's schemas.
 */
@Injectable()
export class EdgeGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionsService,
    private readonly cookies: Cookies,
    private readonly publicOrigin: () => string,
    private readonly logger: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const route = this.reflector.get<HttpRoute | undefined>(ROUTE_METADATA, context.getHandler());
    if (route === undefined) {
      this.logger.error(
        { handler: `${context.getClass().name}.${context.getHandler().name}` },
        'an HTTP handler has no route contract: refused',
      );
      throw new ContractError('NOT_FOUND', 'no such route');
    }
    const request = context.switchToHttp().getRequest<Request>();
    const presented = this.cookies.read(request, this.cookies.sessionName);
    const session = route.access === 'public' ? undefined : await this.sessions.resolve(presented);
    if (route.access !== 'public') {
      if (session === undefined) {
        throw new ContractError('UNAUTHENTICATED', 'sign in first (no session, or it expired)');
      }
      if (route.access !== 'signed-in') {
        if (session.tenant === null) throw new ContractError('FORBIDDEN', 'choose a tenant first');
        if (!route.access.roles.includes(session.tenant.role)) {
          throw new ContractError(
            'FORBIDDEN',
            `this needs one of the roles ${route.access.roles.join(', ')}`,
          );
        }
      }
    }
    if (route.method !== 'GET') this.checkCsrf(request, route, presented);
    attachEdge(request, {
      route,
      input: validateInput(route, request),
      session,
      presentedSessionSecret: presented,
      request,
    });
    return true;
  }

  private checkCsrf(request: Request, route: HttpRoute, secret: string | undefined): void {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== this.publicOrigin()) {
      throw new ContractError('CSRF_INVALID', 'the request comes from another origin');
    }
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') {
      throw new ContractError('CSRF_INVALID', 'the request comes from another site');
    }
    if (route.access === 'public') return;
    const token = request.headers['x-csrf-token'];
    if (
      secret === undefined ||
      !csrfTokenMatches(secret, typeof token === 'string' ? token : undefined)
    ) {
      throw new ContractError(
        'CSRF_INVALID',
        'missing or wrong x-csrf-token header (read it from GET /v1/session)',
      );
    }
  }
}

function validateInput<R extends HttpRoute>(route: R, request: Request): RouteInput<R> {
  const issues: ValidationIssue[] = [];
  const part = (schema: z.ZodType | undefined, value: unknown, where: string, empty: unknown) => {
    if (schema === undefined) {
      if (where === 'body' && value !== undefined && !isEmpty(value)) {
        issues.push({ path: 'body', message: 'this route takes no body' });
      }
      return empty;
    }
    const parsed = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
    if (parsed.success) return parsed.data;
    issues.push(
      ...toValidationIssues(parsed.error).map((issue) => ({
        ...issue,
        path: issue.path === '(root)' ? where : `${where}.${issue.path}`,
      })),
    );
    return empty;
  };
  const input = {
    params: part(route.params, request.params, 'params', {}),
    query: part(route.query, request.query, 'query', {}),
    body: part(route.body, request.body, 'body', undefined),
  };
  if (issues.length > 0) {
    throw new ContractError('INVALID_REQUEST', 'the request is not valid', issues);
  }
  return input as RouteInput<R>;
}

function isEmpty(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}
