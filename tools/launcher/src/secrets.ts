import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import {
  exportEd25519Seed,
  exportX25519PrivateKey,
  generateSealingKey,
  generateSigningKey,
  toBase64Url,
} from '@heroagent/crypto';

export const SERVICES = ['gateway', 'agent', 'vault-proxy', 'audit'] as const;
export type Service = (typeof SERVICES)[number];
/**
 * The users of deploy/nats/heroagent.conf: the services, the gateway's audit outbox relay, and the
 * identity that provisions the audit stream before audit starts.
 */
export const NATS_USERS = [...SERVICES, 'gateway-relay', 'provisioner'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

const secret = z.string().regex(/^[A-Za-z0-9_-]{24,}$/);
const servicePasswords = z.object({
  gateway: secret,
  agent: secret,
  'vault-proxy': secret,
  audit: secret,
});

const natsUserPasswords = servicePasswords.extend({
  // Added after the first release of this file: filled in when missing.
  'gateway-relay': secret.optional(),
  provisioner: secret.optional(),
});

const devSecretsSchema = z.object({
  version: z.literal(1),
  postgresSuperuserPassword: secret,
  postgresOwners: servicePasswords,
  postgresRuntimes: servicePasswords,
  // Added with the gateway's job roles: filled in when missing.
  postgresJobs: z.object({ gateway: z.object({ relay: secret, sweeper: secret }) }).optional(),
  nats: natsUserPasswords,
  keys: z.object({
    gateway: z.object({ signing: secret, sealing: secret }),
    // vault-proxy's `sealing` key of earlier files is no longer used (nothing is sealed to it).
    'vault-proxy': z.object({ signing: secret }),
    // Added after the first release of this file: filled in when missing.
    audit: z.object({ signing: secret, secrets: secret.optional() }),
  }),
});

type StoredSecrets = z.infer<typeof devSecretsSchema>;
/** Development secrets: generated at first start, kept in the git-ignored home folder. */
export type DevSecrets = StoredSecrets & { readonly nats: Record<NatsUser, string> };

const password = () => randomBytes(24).toString('base64url');
const passwords = () => ({
  gateway: password(),
  agent: password(),
  'vault-proxy': password(),
  audit: password(),
});
// nats-server reads passwords through config variables and parses them as config values: a
// password must start with a letter and hold only letters and digits to read as a string.
const NATS_PASSWORD = /^[A-Za-z][A-Za-z0-9]{23,}$/;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const natsPassword = () =>
  [...randomBytes(32)].map((byte, index) => ALPHANUMERIC[byte % (index === 0 ? 52 : 62)]).join('');
const natsPasswords = (): Record<NatsUser, string> => ({
  gateway: natsPassword(),
  agent: natsPassword(),
  'vault-proxy': natsPassword(),
  audit: natsPassword(),
  'gateway-relay': natsPassword(),
  provisioner: natsPassword(),
});
const jobPasswords = () => ({ gateway: { relay: password(), sweeper: password() } });
const secretKey = () => randomBytes(32).toString('base64url');
const seed = () => toBase64Url(exportEd25519Seed(generateSigningKey().privateKey));
const sealing = () => toBase64Url(exportX25519PrivateKey(generateSealingKey().privateKey));

/**
 * Loads `<home>/dev-secrets.json`, or creates it (mode 0600) with fresh passwords and keys. These
 * are for one developer machine only; production keys come from Vault or the deploy's secrets.
 */
export async function loadOrCreateDevSecrets(
  home: string,
): Promise<{ secrets: DevSecrets; created: boolean; file: string }> {
  // 0711: the embedded Postgres runs as another user and must traverse into its data folder.
  await mkdir(home, { recursive: true, mode: 0o711 });
  await chmod(home, 0o711);
  const file = join(home, 'dev-secrets.json');
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = devSecretsSchema.safeParse(json);
    if (!parsed.success) {
      throw new Error(
        `${file} is damaged (DEV_SECRETS_INVALID); delete it (and ${join(home, 'postgres')}) to start afresh`,
      );
    }
    return { secrets: await upgrade(file, parsed.data), created: false, file };
  }
  const secrets: DevSecrets = {
    version: 1,
    postgresSuperuserPassword: password(),
    postgresOwners: passwords(),
    postgresRuntimes: passwords(),
    postgresJobs: jobPasswords(),
    nats: natsPasswords(),
    keys: {
      gateway: { signing: seed(), sealing: sealing() },
      'vault-proxy': { signing: seed() },
      audit: { signing: seed(), secrets: secretKey() },
    },
  };
  await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { secrets, created: true, file };
}

/**
 * Brings a secrets file written by an earlier version up to date: NATS passwords that nats-server
 * cannot read are replaced (they only live as long as one run), missing passwords (NATS users,
 * the gateway's job roles) and keys are generated.
 */
async function upgrade(file: string, secrets: StoredSecrets): Promise<DevSecrets> {
  const stored = secrets.nats;
  const readable = Object.values(stored).every(
    (value) => value === undefined || NATS_PASSWORD.test(value),
  );
  const fresh = natsPasswords();
  const nats = Object.fromEntries(
    NATS_USERS.map((user) => [user, (readable ? stored[user] : undefined) ?? fresh[user]]),
  ) as Record<NatsUser, string>;
  const upgraded: DevSecrets = {
    ...secrets,
    postgresJobs: secrets.postgresJobs ?? jobPasswords(),
    nats,
    keys: {
      ...secrets.keys,
      audit: { ...secrets.keys.audit, secrets: secrets.keys.audit.secrets ?? secretKey() },
    },
  };
  if (JSON.stringify(upgraded) !== JSON.stringify(secrets)) {
    await writeFile(file, `${JSON.stringify(upgraded, null, 2)}\n`, { mode: 0o600 });
  }
  return upgraded;
}
