import { connect } from '@nats-io/transport-node';
import { natsConnectionOptions } from '@heroagent/service';
import { loadAuditProvisioningConfig } from './config.js';
import { AUDIT_CONSUMER, AUDIT_STREAM, provisionAuditStream } from './provisioning/audit-stream.js';
import { AuditStreamError } from './provisioning/provisioning.errors.js';

// The install step that creates or updates the audit stream and its consumer, under the
// provisioning identity (deploy/nats's `provisioner`: NATS_USER/NATS_PASSWORD, or
// NATS_NKEY_SEED_FILE). `pnpm start` runs it before starting audit; a deploy runs it as a job,
// once per install or upgrade.
const config = loadAuditProvisioningConfig();
const connection = await connect({
  ...natsConnectionOptions(config.nats, 'provisioner'),
  name: 'heroagent-audit-provision',
  // An install step gives up, rather than waiting for ever, when NATS does not come up.
  maxReconnectAttempts: 30,
}).catch((error: unknown) => {
  process.stderr.write(
    `[audit-provision] UNAVAILABLE: NATS could not be reached (${String(error)})\n`,
  );
  process.exit(1);
});
try {
  const outcome = await provisionAuditStream(connection, config.stream);
  process.stdout.write(
    `[audit-provision] stream ${AUDIT_STREAM} ${outcome.stream}, consumer ${AUDIT_CONSUMER} ${outcome.consumer}\n`,
  );
} catch (error) {
  const reason =
    error instanceof AuditStreamError ? error.message : `PROVISIONING_FAILED: ${String(error)}`;
  process.stderr.write(`[audit-provision] ${reason}\n`);
  process.exitCode = 1;
} finally {
  await connection.close();
}
