import { z } from 'zod';
import { TRANSPORT_ERROR_CODES, type ErrorCode, type HttpRoute } from '@heroagent/contracts';
import { httpStatusOf } from './http-errors.js';

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return rest;
};

/** Codes any route may answer, beyond those it lists. */
const EVERY_ROUTE: readonly ErrorCode[] = [...TRANSPORT_ERROR_CODES, 'RATE_LIMITED'];

/**
 * The OpenAPI 3.1 description of the gateway's HTTP API, built from the same route contracts
 * the gateway validates with, so it cannot drift from what is served.
 */
export function buildOpenApi(routes: readonly HttpRoute[], serverUrl: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([a-zA-Z]+)/g, '{$1}');
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'HeroAgent gateway',
      version: '1',
      description:
        'The only HTTP edge of HeroAgent. Browsers authenticate with the session cookie; every request but GET also sends `x-csrf-token` (from GET /v1/session). Errors are `{ code, message, issues? }`.',
    },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: '__Host-heroagent_session' },
        csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string' },
            message: { type: 'string' },
            issues: {
              type: 'array',
              items: {
                type: 'object',
                properties: { path: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
    paths,
  };
}

function operation(route: HttpRoute): Record<string, unknown> {
  const parameters = [...fields(route.params, 'path'), ...fields(route.query, 'query')];
  const responses: Record<string, unknown> = {};
  switch (route.outcome.kind) {
    case 'json':
      responses[String(route.outcome.status)] = {
        description: 'success',
        content: { 'application/json': { schema: toSchema(route.outcome.schema, 'output') } },
      };
      break;
    case 'no-content':
      responses['204'] = { description: 'done' };
      break;
    case 'redirect':
      responses['302'] = { description: 'redirects the browser' };
      break;
    case 'download':
      responses['200'] = {
        description: 'a file, streamed (Content-Disposition: attachment; no Content-Length)',
        headers: {
          'content-disposition': {
            description: 'attachment; filename="…"',
            schema: { type: 'string' },
          },
        },
        content: {
          [route.outcome.contentType]: { schema: { type: 'string', format: 'binary' } },
        },
      };
      break;
  }
  const byStatus = new Map<number, Set<ErrorCode>>();
  for (const code of [...route.errors, ...EVERY_ROUTE]) {
    const status = httpStatusOf(code);
    byStatus.set(status, (byStatus.get(status) ?? new Set()).add(code));
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: [...codes].join(', '),
      content: {
        'application/json': {
          schema: {
            allOf: [
              { $ref: '#/components/schemas/Error' },
              { properties: { code: { enum: [...codes] } } },
            ],
          },
        },
      },
    };
  }
  return {
    operationId: route.id,
    summary: route.summary,
    ...(route.access === 'public'
      ? { security: [] }
      : {
          security: [route.method === 'GET' ? { session: [] } : { session: [], csrf: [] }],
          'x-heroagent-access':
            route.access === 'signed-in' ? 'signed-in' : { roles: route.access.roles },
        }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: toSchema(route.body, 'input') } },
          },
        }),
    responses,
  };
}

function fields(schema: z.ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (schema === undefined) return [];
  const json = toSchema(schema, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}
