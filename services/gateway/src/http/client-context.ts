import { AsyncLocalStorage } from 'node:async_hooks';
import type { Request, Response } from 'express';
import {
  CLIENT_USER_AGENT_MAX,
  clientContextSchema,
  type ClientContext,
} from '@heroagent/contracts';

const requests = new AsyncLocalStorage<ClientContext>();

/**
 * The client of one HTTP request, as audit events record it: its address as Express reads it
 * under the `trust proxy` setting (X-Forwarded-For only through the configured hops; an
 * IPv4-mapped IPv6 address as plain IPv4; anything the event schema does not take as an address
 * left out, for a forwarded header can carry any text), and its user agent cut to a bounded length.
 */
export function clientOf(request: Pick<Request, 'ip' | 'headers'>): ClientContext {
  const raw = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(request.ip ?? '')?.[1] ?? request.ip;
  // The event schema decides what an address is (an IPv6 zone, say, is not kept).
  const ip = clientContextSchema.shape.ip.safeParse(raw).data;
  const agent = request.headers['user-agent'];
  const userAgent =
    typeof agent === 'string' && agent.length > 0
      ? agent.slice(0, CLIENT_USER_AGENT_MAX)
      : undefined;
  return {
    ...(ip === undefined ? {} : { ip }),
    ...(userAgent === undefined ? {} : { userAgent }),
  };
}

/** Express middleware: the rest of the request runs with its client known to `currentClient`. */
export function clientContext() {
  return (request: Request, _response: Response, next: () => void): void => {
    requests.run(clientOf(request), next);
  };
}

/** The client of the HTTP request being handled, if the work in progress serves one. */
export function currentClient(): ClientContext | undefined {
  const client = requests.getStore();
  return client === undefined || (client.ip === undefined && client.userAgent === undefined)
    ? undefined
    : client;
}
