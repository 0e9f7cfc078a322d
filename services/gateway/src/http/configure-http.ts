import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { httpServerSpans, type Logger } from '@heroagent/telemetry';
import type { GatewayConfig } from '../config.js';
import { clientContext } from './client-context.js';
import { serveConsole } from './console-static.js';
import { GatewayErrorFilter } from './http-error.filter.js';

/**
 * The HTTP edge's defences, in order: a span per request, helmet's headers with a deny-all
 * Content-Security-Policy (this is an API; the console brings its own policy), a bounded JSON
 * body, coded JSON errors. No CORS: browsers may call the gateway only from its own origin.
 */
export function configureHttp(
  app: NestExpressApplication,
  config: GatewayConfig,
  logger: Logger,
): void {
  app.use(httpServerSpans('gateway'));
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          'default-src': ["'none'"],
          'base-uri': ["'none'"],
          'form-action': ["'none'"],
          'frame-ancestors': ["'none'"],
        },
      },
      crossOriginResourcePolicy: { policy: 'same-origin' },
      frameguard: { action: 'deny' },
      strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    }),
  );
  app.disable('x-powered-by');
  // The client address (rate limits, the sessions list) comes from X-Forwarded-For only through
  // as many proxies as configured.
  app.set('trust proxy', config.http.trustProxyHops);
  // Audit events caused by a request record its client (address and user agent).
  app.use(clientContext());
  app.useBodyParser('json', { limit: config.http.bodyLimitBytes });
  if (config.http.consoleDir !== undefined) serveConsole(app, config.http.consoleDir);
  app.useGlobalFilters(new GatewayErrorFilter(logger));
}
