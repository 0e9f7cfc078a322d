/** Injection token of the gateway's public origin. */
export const PUBLIC_ORIGIN = Symbol('PUBLIC_ORIGIN');

/**
 * The origin people reach the gateway at: PUBLIC_URL's, or (development and tests, where the
 * port may be chosen at listen time) the address it listens on, set once it does.
 */
export class PublicOrigin {
  private value: string | undefined;

  constructor(configured: string | undefined) {
    this.value = configured;
  }

  /** Called once listening, when PUBLIC_URL was not set. */
  listeningAt(url: string): void {
    this.value ??= new URL(url).origin;
  }

  get(): string {
    if (this.value === undefined)
      throw new Error('the public origin is not known before listening');
    return this.value;
  }
}
