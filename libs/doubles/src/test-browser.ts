/**
 * A browser double for tests: a cookie jar per origin (expired and cleared cookies dropped), redirects
 * followed by hand so every hop can be seen, and the CSRF header sent on request.
 */
export class TestBrowser {
  private readonly jar = new Map<string, Map<string, string>>();
  /**
   * The address the gateway sees (through one trusted proxy hop): each browser its own, so the
   * per-address rate limits apply per browser as they would per person.
   */
  readonly address = `10.${rand()}.${rand()}.${rand()}`;
  /** Every URL visited by the last `follow`. */
  visited: string[] = [];

  cookie(origin: string, name: string): string | undefined {
    return this.jar.get(origin)?.get(name);
  }

  setCookie(origin: string, name: string, value: string): void {
    const cookies = this.jar.get(origin) ?? new Map<string, string>();
    cookies.set(name, value);
    this.jar.set(origin, cookies);
  }

  /** One request, no redirect followed. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookies = this.jar.get(target.origin);
    if (cookies !== undefined && cookies.size > 0) {
      headers.set('cookie', [...cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    headers.set('x-forwarded-for', this.address);
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.keep(target.origin, response.headers.getSetCookie());
    return response;
  }

  /**
   * Follows redirects from `url` until a response is not a redirect, or its location is outside
   * every origin in `until` … or matches `stop`. Returns the last response.
   */
  async follow(url: string, stop: (location: URL) => boolean = () => false): Promise<Response> {
    this.visited = [];
    let next = new URL(url);
    for (let hop = 0; hop < 20; hop += 1) {
      this.visited.push(next.href);
      const response = await this.fetch(next.href);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null) return response;
      const target = new URL(location, next);
      if (stop(target)) return response;
      await response.body?.cancel();
      next = target;
    }
    throw new Error(`too many redirects: ${this.visited.join(' -> ')}`);
  }

  private keep(origin: string, setCookies: string[]): void {
    const cookies = this.jar.get(origin) ?? new Map<string, string>();
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const separator = pair!.indexOf('=');
      const name = pair!.slice(0, separator);
      const value = decodeURIComponent(pair!.slice(separator + 1));
      const expires = attributes.find((a) => a.toLowerCase().startsWith('expires='));
      const maxAge = attributes.find((a) => a.toLowerCase().startsWith('max-age='));
      const gone =
        value === '' ||
        (maxAge !== undefined && Number(maxAge.slice(8)) <= 0) ||
        (expires !== undefined && new Date(expires.slice(8)).getTime() <= Date.now());
      if (gone) cookies.delete(name);
      else cookies.set(name, value);
    }
    this.jar.set(origin, cookies);
  }
}

function rand(): number {
  return Math.floor(Math.random() * 254) + 1;
}
