import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import {
  ClientProxyFactory,
  NatsRecordBuilder,
  Transport,
  type ClientProxy,
} from '@nestjs/microservices';
import { TimeoutError, firstValueFrom, timeout } from 'rxjs';
import {
  ContractError,
  toValidationIssues,
  type EventContract,
  type EventPayload,
  type RpcContract,
  type RpcRequestInput,
  type RpcResponse,
  type ServiceName,
} from '@heroagent/contracts';
import { injectTraceContext, withNatsSpan } from '@heroagent/telemetry';
import type { NatsConfig } from '../config.js';
import { natsConnectionOptions } from './transport.js';

/** Per-call options. */
export interface RequestOptions {
  readonly timeoutMs?: number;
}

/**
 * Calls other services over NATS through Nest's ClientProxy, one contract at a time: the request is
 * validated before it leaves, the trace context travels in the headers, a coded error comes back
 * as a ContractError, and an answer outside the contract is refused.
 */
export class ContractClient {
  constructor(
    private readonly proxy: ClientProxy,
    private readonly service: ServiceName,
    private readonly defaultTimeoutMs: number,
  ) {}

  /** A client for `service` on the NATS server of `config`. */
  static create(config: NatsConfig, service: ServiceName): ContractClient {
    const proxy = ClientProxyFactory.create({
      transport: Transport.NATS,
      options: natsConnectionOptions(config, service),
    });
    return new ContractClient(proxy, service, config.NATS_REQUEST_TIMEOUT_MS);
  }

  /** Sends one request and waits for its answer. */
  async request<C extends RpcContract>(
    contract: C,
    input: RpcRequestInput<C>,
    options: RequestOptions = {},
  ): Promise<RpcResponse<C>> {
    const parsed = contract.request.safeParse(input);
    if (!parsed.success) {
      throw new ContractError(
        'INVALID_REQUEST',
        `request for ${contract.subject} does not match its contract`,
        toValidationIssues(parsed.error),
      );
    }
    return withNatsSpan(
      { kind: 'client', subject: contract.subject, service: this.service },
      async () => {
        const headers = natsHeaders();
        injectTraceContext(headers);
        const record = new NatsRecordBuilder(parsed.data).setHeaders(headers).build();
        let answer: unknown;
        try {
          answer = await firstValueFrom(
            this.proxy
              .send<unknown>(contract.subject, record)
              .pipe(timeout(options.timeoutMs ?? this.defaultTimeoutMs)),
          );
        } catch (error) {
          throw this.toContractError(error, contract);
        }
        const checked = contract.response.safeParse(answer);
        if (!checked.success) {
          throw new ContractError('INTERNAL', `${contract.subject} answered outside its contract`);
        }
        return checked.data as RpcResponse<C>;
      },
    );
  }

  /**
   * Publishes one event to everyone subscribed (no answer, no queue group): validated before it
   * leaves. For what every replica of a service must hear, where a request would reach only one.
   */
  async publish<C extends EventContract>(contract: C, payload: EventPayload<C>): Promise<void> {
    const subject = literalSubject(contract);
    const parsed = contract.payload.safeParse(payload);
    if (!parsed.success) {
      throw new ContractError(
        'INVALID_REQUEST',
        `event ${subject} does not match its contract`,
        toValidationIssues(parsed.error),
      );
    }
    await this.proxy.connect();
    const headers = natsHeaders();
    injectTraceContext(headers);
    this.proxy.unwrap<NatsConnection>().publish(subject, JSON.stringify(parsed.data), { headers });
  }

  /**
   * Hears every event of `contract` (this process among all that subscribe: no queue group),
   * each validated first; what does not match is dropped. Answers how to stop listening.
   */
  async subscribe<C extends EventContract>(
    contract: C,
    handle: (payload: EventPayload<C>) => void,
  ): Promise<() => void> {
    const subject = literalSubject(contract);
    await this.proxy.connect();
    const subscription = this.proxy.unwrap<NatsConnection>().subscribe(subject, {
      callback: (error, message) => {
        if (error !== null) return;
        let body: unknown;
        try {
          body = message.json();
        } catch {
          return;
        }
        const parsed = contract.payload.safeParse(body);
        if (parsed.success) handle(parsed.data as EventPayload<C>);
      },
    });
    return () => subscription.unsubscribe();
  }

  /**
   * Calls `listener` each time the connection to the NATS server is lost: what is published
   * until it is back is not heard here. Answers how to stop.
   */
  async onDisconnect(listener: () => void): Promise<() => void> {
    await this.proxy.connect();
    const connection = this.proxy.unwrap<NatsConnection>();
    let listening = true;
    void (async () => {
      for await (const status of connection.status()) {
        if (!listening) return;
        if (status.type === 'disconnect') listener();
      }
    })();
    return () => {
      listening = false;
    };
  }

  /** Round-trips a PING to the NATS server; rejects when it is unreachable. */
  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    // A half-open connection would leave a flush waiting until nats.js notices it is dead: a
    // ping answers within the request timeout, or fails as UNAVAILABLE.
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new ContractError('UNAVAILABLE', 'the NATS server did not answer a ping in time')),
        this.defaultTimeoutMs,
      );
    });
    try {
      await Promise.race([
        (async () => {
          await this.proxy.connect();
          await this.proxy.unwrap<NatsConnection>().flush();
        })(),
        late,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Connects now rather than on first use. */
  async connect(): Promise<void> {
    await this.proxy.connect();
  }

  /** Closes the connection; pending requests fail with UNAVAILABLE. */
  async close(): Promise<void> {
    await this.proxy.close();
  }

  private toContractError(error: unknown, contract: RpcContract): ContractError {
    if (error instanceof TimeoutError) {
      return new ContractError('TIMEOUT', `${contract.subject} did not answer in time`);
    }
    if (typeof error === 'object' && error !== null && 'code' in error) {
      return ContractError.fromBody(error);
    }
    return new ContractError('UNAVAILABLE', `${contract.subject} could not be reached`);
  }
}

/** An event contract's subject when it names exactly one (no wildcard). */
function literalSubject(contract: EventContract): string {
  if (/[*>]/.test(contract.subjectPattern)) {
    throw new Error(`event ${contract.subjectPattern} has no single subject to publish or hear`);
  }
  return contract.subjectPattern;
}
