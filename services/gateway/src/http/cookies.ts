import { parseCookie } from 'cookie';
import type { Request, Response } from 'express';

/**
 * The gateway's cookies. With Secure on (everywhere but plain-HTTP development) they carry the
 * `__Host-` prefix: Secure, Path=/, no Domain, so no sibling subdomain can set or shadow them.
 * SameSite=Lax: they travel on the top-level redirect back from an identity provider, and never
 * on a cross-site POST (state-changing routes also demand a CSRF token).
 */
export class Cookies {
  constructor(private readonly secure: boolean) {}

  get sessionName(): string {
    return this.secure ? '__Host-heroagent_session' : 'heroagent_session';
  }

  get flowName(): string {
    return this.secure ? '__Host-heroagent_flow' : 'heroagent_flow';
  }

  read(request: Request, name: string): string | undefined {
    const header = request.headers.cookie;
    if (header === undefined) return undefined;
    try {
      return parseCookie(header)[name];
    } catch {
      return undefined;
    }
  }

  set(response: Response, name: string, value: string, expires: Date): void {
    response.cookie(name, value, {
      httpOnly: true,
      secure: this.secure,
      sameSite: 'lax',
      path: '/',
      expires,
    });
  }

  clear(response: Response, name: string): void {
    response.clearCookie(name, { httpOnly: true, secure: this.secure, sameSite: 'lax', path: '/' });
  }
}
