import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An order the merchant double took. */
export interface MerchantOrder {
  readonly id: string;
  readonly item: string;
  readonly quantity: number;
  readonly amountMinor: number;
  readonly currency: string;
  readonly idempotencyKey: string;
  readonly createdAt: string;
}

/**
 * A test double of a merchant's order API, in the shape HeroAgent's merchant connector speaks
 * (the common payment-API conventions: a bearer API key, an `Idempotency-Key` header that makes
 * a retried order return the first one, 201 with the order, 402 when payment is declined, 409 when
 * a key is reused for a different order, 5xx when down). It counts what it did.
 */
export class MerchantDouble {
  readonly orders: MerchantOrder[] = [];
  /** Requests answered, including refused ones. */
  requests = 0;
  /** The next order is declined (402). */
  declineNext = false;
  down = false;
  private server: Server | undefined;
  private port = 0;

  private constructor(readonly apiKey: string) {}

  static async start(): Promise<MerchantDouble> {
    const double = new MerchantDouble(`sk_test_${randomUUID().replaceAll('-', '')}`);
    double.server = createServer((request, response) => double.handle(request, response));
    await new Promise<void>((resolve) => double.server!.listen(0, '127.0.0.1', resolve));
    double.port = (double.server.address() as AddressInfo).port;
    return double;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      this.requests += 1;
      const reply = (status: number, body: object) =>
        response
          .writeHead(status, { 'content-type': 'application/json' })
          .end(JSON.stringify(body));
      if (this.down) return reply(503, { error: { code: 'unavailable' } });
      if (request.headers.authorization !== `Bearer ${this.apiKey}`) {
        return reply(401, { error: { code: 'unauthorized' } });
      }
      if (request.method !== 'POST' || request.url !== '/v1/orders') {
        return reply(404, { error: { code: 'not_found' } });
      }
      const key = request.headers['idempotency-key'];
      let body: { item?: unknown; quantity?: unknown; amount_minor?: unknown; currency?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        return reply(400, { error: { code: 'invalid_json' } });
      }
      if (
        typeof key !== 'string' ||
        typeof body.item !== 'string' ||
        typeof body.quantity !== 'number' ||
        typeof body.amount_minor !== 'number' ||
        typeof body.currency !== 'string'
      ) {
        return reply(400, { error: { code: 'invalid_request' } });
      }
      const earlier = this.orders.find((order) => order.idempotencyKey === key);
      if (earlier !== undefined) {
        const same =
          earlier.item === body.item &&
          earlier.quantity === body.quantity &&
          earlier.amountMinor === body.amount_minor &&
          earlier.currency === body.currency;
        return same
          ? reply(201, view(earlier))
          : reply(409, { error: { code: 'idempotency_key_reused' } });
      }
      if (this.declineNext) {
        this.declineNext = false;
        return reply(402, { error: { code: 'card_declined' } });
      }
      const order: MerchantOrder = {
        id: `ord_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
        item: body.item,
        quantity: body.quantity,
        amountMinor: body.amount_minor,
        currency: body.currency,
        idempotencyKey: key,
        createdAt: new Date().toISOString(),
      };
      this.orders.push(order);
      return reply(201, view(order));
    });
  }
}

function view(order: MerchantOrder) {
  return {
    id: order.id,
    status: 'confirmed',
    item: order.item,
    quantity: order.quantity,
    amount_minor: order.amountMinor,
    currency: order.currency,
  };
}
