import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';

/**
 * The console's own Content-Security-Policy: everything from this origin, nothing inline, no
 * frames, no other origin to talk to. (The API keeps helmet's deny-all policy.)
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Serves the built console: `/` (and `/index.html`) never cached, so a deploy takes effect at
 * once; `/assets/*` (content-hashed names) cached for a year. Nothing else is served from disk.
 */
export function serveConsole(app: NestExpressApplication, dir: string): void {
  const index = join(dir, 'index.html');
  const consolePolicy = (_request: Request, response: Response, next: NextFunction) => {
    response.setHeader('Content-Security-Policy', CONSOLE_CSP);
    next();
  };
  app.use(
    '/assets',
    consolePolicy,
    express.static(join(dir, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
      dotfiles: 'deny',
      fallthrough: false,
    }),
  );
  app.use((request: Request, response: Response, next: NextFunction) => {
    if (
      (request.method !== 'GET' && request.method !== 'HEAD') ||
      !['/', '/index.html'].includes(request.path)
    ) {
      next();
      return;
    }
    response.setHeader('Content-Security-Policy', CONSOLE_CSP);
    response.setHeader('Cache-Control', 'no-cache');
    response.sendFile(index);
  });
}
