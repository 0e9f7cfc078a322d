import type { Msg } from '@nats-io/nats-core';
import { ServerNats, type NatsOptions } from '@nestjs/microservices';
import { rpcContractOf } from './contract-registry.js';
import type { RefusedRequests } from './refused-requests.js';
import { refusalOf } from './reply-guard.js';

/**
 * Nest's NATS server, answering only requests it may answer: a message without a reply subject,
 * on a subject no contract is bound to, or naming a reply subject outside the inboxes of the
 * callers its contract lists, is dropped (and counted) before it is read, and its handler is not
 * called. The one place every service's RPCs pass through.
 */
export class ContractNatsServer extends ServerNats {
  constructor(
    options: Required<NatsOptions>['options'],
    private readonly refusals: RefusedRequests,
  ) {
    super(options);
  }

  override async handleMessage(channel: string, natsMsg: Msg): Promise<unknown> {
    const reply = natsMsg.reply;
    const refusal = refusalOf(rpcContractOf(channel), reply);
    if (refusal !== undefined) {
      this.refusals.count(channel, refusal, reply);
      return undefined;
    }
    return super.handleMessage(channel, natsMsg);
  }
}
