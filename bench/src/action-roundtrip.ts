// One agent action end to end, for a read (gmail.messages.search) and an allowed write
// (gmail.drafts.create), next to (a) a raw NATS request/reply on the same nats-server and (b) the
// same provider work called directly: the gateway's own Gmail connector with an access token, from
// this process. All five paths are measured in interleaved rounds of one run, so the overhead the
// platform adds (action minus direct) is compared with raw NATS under the same load.
//
// An action: the real gateway checks the capability and the policy, records the action and its
// audit event (outbox) in Postgres, asks the real vault-proxy for a token (signed grant, sealed
// answer; vault-proxy's cache holds the token after the first call), calls the Gmail double over
// loopback HTTP and answers; its relay publishes the audit events to JetStream. See
// action-platform.ts for what is started and how the tokens are issued.
import { connect } from '@nats-io/transport-node';
import { AUDIT_STREAM, INVOICES, startActionPlatform } from './action-platform.js';
import { printActionRun } from './action-report.js';
import { measureSealing } from './action-sealing.js';
import { actionKinds } from './agent-actions.js';
import { countHttpClientErrors } from './http-client-errors.js';
import { loadBenchConfig } from './config.js';
import { measureInterleaved, type RequestPath } from './interleaved.js';
import { ECHO_PAYLOAD, RAW_ECHO_SUBJECT } from './nats-echo.js';
import { formatCount, formatMicros, printMachine } from './report.js';

const config = loadBenchConfig();
const { requests, throughputRequests } = config.action;
const warmup = Math.min(config.warmup, 200);
const { concurrency, rounds } = config;

printMachine('an action through the gateway vs its provider work vs raw NATS request/reply');

// Per action path: one check, its warm-up and its timed requests; then the sealing run of reads.
const actions = 2 * (1 + warmup + requests + throughputRequests) + requests;
const httpErrors = countHttpClientErrors();
const platform = await startActionPlatform(actions);
const responder = await connect({ servers: platform.natsUrl });
try {
  responder.subscribe(RAW_ECHO_SUBJECT, {
    callback: (error, message) => {
      if (error === null) message.respond(JSON.stringify(message.json()));
    },
  });
  await responder.flush();
  const rawEcho = async () => {
    const reply = await platform.raw.request(RAW_ECHO_SUBJECT, JSON.stringify(ECHO_PAYLOAD), {
      timeout: 20_000,
    });
    const answer: unknown = reply.json();
    if (JSON.stringify(answer) !== JSON.stringify(ECHO_PAYLOAD)) throw new Error('a wrong echo');
    return answer;
  };
  const { read, write } = actionKinds(platform);
  // One untimed read and write per person first: vault-proxy gets each connection's tokens here.
  for (let person = 0; person < platform.people; person += 1) {
    await read.action();
    await write.action();
  }
  const refreshesBefore = platform.tokenRelay.refreshes;

  const paths: RequestPath[] = [
    {
      name: 'raw nats.js request → echo subscription',
      call: rawEcho,
      // A fast path: more requests, so its percentiles and rate rest on as many samples as time.
      requests: config.requests,
      throughputRequests: config.throughputRequests,
    },
    { name: `read, provider work direct: gateway's connector, ${read.type}`, call: read.direct },
    { name: `read, action: agent → gateway.actions.execute ${read.type}`, call: read.action },
    { name: `write, provider work direct: gateway's connector, ${write.type}`, call: write.direct },
    { name: `write, action: agent → gateway.actions.execute ${write.type}`, call: write.action },
  ];
  console.log(
    'gateway and vault-proxy in this process; OIDC and Gmail doubles on loopback HTTP; one' +
      ' nats-server (JetStream) and Postgres on loopback. An action: capability check, Cedar' +
      ' policy (the tenant permits drafts without approval), action + audit rows in Postgres,' +
      ' a token from vault-proxy (signed grant, sealed answer; cached), the Gmail calls over HTTP' +
      ` (a search: one list and ${INVOICES} gets; a draft: one create), the result to the agent.` +
      ' Provider work direct: the same connector object the gateway calls, with a token.',
  );
  console.log(
    `latency: ${formatCount(requests)} sequential requests per action path` +
      ` (${formatCount(config.requests)} raw) after ${formatCount(warmup)} warm-up; throughput:` +
      ` ${formatCount(throughputRequests)} requests per action path` +
      ` (${formatCount(config.throughputRequests)} raw), ${concurrency} in flight; all paths in` +
      ` ${rounds} interleaved rounds; actions round-robin over ${platform.people}` +
      ' people (tenants), each with a search task and a draft task on the connected mailbox\n',
  );
  const [raw, readDirect, readAction, writeDirect, writeAction] = await measureInterleaved(
    paths,
    { warmup, requests, throughputRequests, concurrency, rounds },
    (round) => console.log(`round ${round} of ${rounds} …`),
  );
  const refreshesDuring = platform.tokenRelay.refreshes - refreshesBefore;
  const sealing = await measureSealing(read.action, requests);
  const auditMessages = (await platform.streams.streams.info(AUDIT_STREAM)).state.messages;

  console.log('');
  printActionRun({
    raw: raw!,
    kinds: [
      { label: `read (${read.type})`, direct: readDirect!, action: readAction! },
      { label: `write (${write.type})`, direct: writeDirect!, action: writeAction! },
    ],
  });
  console.log(
    `\nsealing and opening personal data (AES-256-GCM with the person's data key, cached): per` +
      ` read p50 ${formatMicros(sealing.latency.p50)} µs, p99 ${formatMicros(sealing.latency.p99)}` +
      ` µs (${sealing.seals} seals, ${sealing.opens} opens per action) =` +
      ` ${((100 * sealing.latency.p50) / readAction!.latency.p50).toFixed(1)}% of the read's p50`,
  );
  console.log(
    `token refreshes at the provider during the measured rounds: ${refreshesDuring}` +
      ` (${platform.tokenRelay.refreshes} in all; the token came from a cache);` +
      ` audit events in the JetStream stream so far: ${formatCount(auditMessages)}` +
      ` (the relay publishes behind the answers); HTTP requests failed in this process:` +
      ` ${httpErrors.describe()}`,
  );
} catch (error) {
  console.error(`HTTP requests failed in this process: ${httpErrors.describe()}`);
  throw error;
} finally {
  httpErrors.stop();
  await responder.close();
  await platform.close();
}
