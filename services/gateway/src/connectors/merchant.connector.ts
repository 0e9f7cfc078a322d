import type { z } from 'zod';
import { purchase } from '@heroagent/contracts';
import {
  ConnectorError,
  type Connector,
  type ConnectorCall,
  type ConnectorOutcome,
} from '../actions/connector.js';

/** A merchant HeroAgent can buy from: its id in `purchase.create`, its order API, its API key. */
export interface MerchantEndpoint {
  readonly id: string;
  readonly url: string;
  readonly apiKey: string;
}

/**
 * Purchases through a merchant's order API: one order per action, the action's id as the
 * `Idempotency-Key`, so a retried call never buys twice. Spend limits and approvals are the
 * gateway's, before this runs; a purchase is never undone here (refunds are the merchant's).
 */
export class MerchantConnector implements Connector {
  private readonly merchants: ReadonlyMap<string, MerchantEndpoint>;

  constructor(
    merchants: readonly MerchantEndpoint[],
    private readonly timeoutMs: number,
  ) {
    this.merchants = new Map(merchants.map((merchant) => [merchant.id, merchant]));
  }

  handles(type: string): boolean {
    return type === purchase.type;
  }

  async execute(call: ConnectorCall): Promise<ConnectorOutcome> {
    const params = call.params as z.output<typeof purchase.params>;
    const merchant = this.merchants.get(params.merchant);
    if (merchant === undefined) {
      throw new ConnectorError('failed', `no merchant "${params.merchant}" is configured here`);
    }
    let response: Response;
    try {
      response = await fetch(`${merchant.url.replace(/\/$/, '')}/v1/orders`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${merchant.apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': call.actionId,
        },
        body: JSON.stringify({
          item: params.item,
          quantity: params.quantity,
          amount_minor: params.amountMinor,
          currency: params.currency,
        }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new ConnectorError('unavailable', 'the merchant could not be reached');
    }
    const body = (await response.json().catch(() => ({}))) as {
      id?: unknown;
      amount_minor?: unknown;
      currency?: unknown;
    };
    if (response.status === 201 || response.status === 200) {
      if (typeof body.id !== 'string')
        throw new ConnectorError('failed', 'the merchant gave no order id');
      return {
        result: { orderId: body.id, amountMinor: params.amountMinor, currency: params.currency },
      };
    }
    if (response.status === 402)
      throw new ConnectorError('failed', 'the merchant declined the payment');
    if (response.status === 409)
      throw new ConnectorError('conflict', 'the merchant refused a repeated order');
    if (response.status === 429 || response.status >= 500) {
      throw new ConnectorError('unavailable', `the merchant answered ${response.status}`);
    }
    throw new ConnectorError('failed', `the merchant answered ${response.status}`);
  }

  undo(): Promise<void> {
    return Promise.reject(new ConnectorError('failed', 'a purchase cannot be undone by HeroAgent'));
  }
}
