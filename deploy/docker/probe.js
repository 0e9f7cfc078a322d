// Container probe of a HeroAgent service, installed in the image as /app/probe.mjs (the Dockerfile's
// HEALTHCHECK; Kubernetes probes the same endpoints with httpGet and needs no script):
//   node /app/probe.mjs ready   exit 0 when GET /readyz of the service's health listener answers 200
//   node /app/probe.mjs live    exit 0 when GET /healthz answers 200
// Every service serves them on HEALTH_PORT (libs/service: its own health report and a round trip on
// its NATS connection; the gateway's is its /readyz), bound to HEALTH_HOST, loopback by default.
// Plain JavaScript without imports, so a probe costs a short node start, not the service's boot.
const TIMEOUT_MS = 8_000;
const mode = process.argv[2] ?? '';

function fail(reason) {
  process.stderr.write(`[probe] ${mode || '?'}: ${reason}\n`);
  process.exit(1);
}

if (mode !== 'ready' && mode !== 'live') fail('usage: node probe.mjs ready|live');
const port = Number(process.env.HEALTH_PORT ?? '');
if (!Number.isInteger(port) || port < 1 || port > 65_535)
  fail('HEALTH_PORT is not set: the service serves no health listener to probe');
// A listener bound to every address is asked on loopback; one bound to an address, there.
const bound = process.env.HEALTH_HOST ?? '127.0.0.1';
const host = bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound;
const path = mode === 'ready' ? '/readyz' : '/healthz';
try {
  const response = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`, {
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (response.status !== 200) fail(`${path} answered ${response.status}`);
  process.exit(0);
} catch (error) {
  fail(error instanceof Error ? error.message.split('\n')[0].slice(0, 200) : String(error));
}
