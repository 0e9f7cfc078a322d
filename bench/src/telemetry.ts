// What a log line costs through the redacting logger, with and without secret-looking fields, and
// when it also leaves over OTLP (parsed into a log record and queued for the batch exporter).
import { Writable } from 'node:stream';
import { createLogger, startTelemetry } from '@heroagent/telemetry';
import { loadBenchConfig } from './config.js';
import { printMachine, printOperations, printTimedPlan } from './report.js';
import { compareOpsPerSecond } from './timing.js';

const config = loadBenchConfig();
printMachine('logging: lines through the redacting logger');

/** Swallows lines, keeping the last, so the figure is the logger's work and not the terminal's. */
class NullDestination extends Writable {
  lines = 0;
  lastLine = '';
  constructor() {
    super({ decodeStrings: false });
  }
  override _write(chunk: unknown, _encoding: BufferEncoding, done: () => void): void {
    this.lines += 1;
    this.lastLine = String(chunk);
    done();
  }
}

const destination = new NullDestination();
const logger = createLogger({ service: 'gateway', level: 'info', destination });
// A logs endpoint nobody listens on: the batch exporter's failures happen off the logging path,
// and what is measured is the line's way into its queue.
const telemetry = startTelemetry({
  serviceName: 'heroagent-bench',
  serviceVersion: '0',
  environment: 'test',
  otlpLogsEndpoint: 'http://127.0.0.1:9/v1/logs',
});
const otlpLogger = createLogger({ service: 'gateway', level: 'info', destination, otlp: true });

const plainFields = {
  tenantId: '7d1c3f2e-5b8a-4c6d-9e0f-1a2b3c4d5e6f',
  action: 'calendar.events.create',
  outcome: 'success',
  durationMs: 182,
  idempotencyKey: 'task-42:step-3',
};
// Fake secrets, named and shaped like the real ones the logger must never print.
const secretFields = {
  ...plainFields,
  accessToken: 'ya29.a0AfB_byC-fake-access-token-0123456789',
  refresh_token: '1//0gFakeRefreshToken0123456789',
  headers: { authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl' },
  upstream: 'postgres://gateway:hunter2@db.internal:5432/heroagent',
};

logger.info(secretFields, 'token refreshed');
if (/ya29\.|1\/\/0g|eyJ|hunter2/.test(destination.lastLine)) {
  throw new Error(`a secret reached the log line: ${destination.lastLine}`);
}

// Bytes are the length of the line each case writes, taken once before timing.
const lineBytes = (write: () => void) => {
  const before = destination.lines;
  write();
  return destination.lines === before ? undefined : destination.lastLine.length;
};
const cases = [
  {
    name: 'info, 5 plain fields',
    operation: () => logger.info(plainFields, 'action executed'),
  },
  {
    name: 'info, 5 plain + 4 secret fields',
    operation: () => logger.info(secretFields, 'token refreshed'),
  },
  {
    name: 'info, 5 plain fields, also over OTLP',
    operation: () => otlpLogger.info(plainFields, 'action executed'),
  },
  {
    name: 'debug, below the level (dropped)',
    operation: () => logger.debug(secretFields, 'token refreshed'),
  },
];
const sizes = cases.map((entry) => lineBytes(entry.operation));
printTimedPlan(config);
const rates = await compareOpsPerSecond(
  cases.map((entry) => entry.operation),
  { durationMs: config.caseMs, rounds: config.rounds },
);
printOperations(
  'line',
  cases.map(({ name }, index) => ({
    name,
    ...(sizes[index] === undefined ? {} : { bytes: sizes[index] }),
    perSecond: rates[index]!,
  })),
);
await telemetry.shutdown();
