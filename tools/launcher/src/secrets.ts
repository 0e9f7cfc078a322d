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

const secret = z.string().regex(/^[A-Za-z0-9_-]{24,}$/);
const servicePasswords = z.object({
  gateway: secret,
  agent: secret,
  'vault-proxy': secret,
  audit: secret,
});

const devSecretsSchema = z.object({
  version: z.literal(1),
  postgresSuperuserPassword: secret,
  postgresOwners: servicePasswords,
  postgresRuntimes: servicePasswords,
  // Added with the gateway's job roles: filled in when missing.
  postgresJobs: z.object({ gateway: z.object({ relay: secret, sweeper: secret }) }).optional(),
  nats: servicePasswords,
  keys: z.object({
    gateway: z.object({ signing: secret, sealing: secret }),
    'vault-proxy': z.object({ signing: secret, sealing: secret }),
    // Added after the first release of this file: filled in when missing.
    audit: z.object({ signing: secret, secrets: secret.optional() }),
  }),
});

/** Development secrets: generated at first start, kept in the git-ignored home folder. */
export type DevSecrets = z.infer<typeof devSecretsSchema>;

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
const natsPasswords = () => ({
  gateway: natsPassword(),
  agent: natsPassword(),
  'vault-proxy': natsPassword(),
  audit: natsPassword(),
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
      'vault-proxy': { signing: seed(), sealing: sealing() },
      audit: { signing: seed(), secrets: secretKey() },
    },
  };
  await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { secrets, created: true, file };
}

/**
 * Brings a secrets file written by an earlier version up to date: NATS passwords that nats-server
 * cannot read are replaced (they only live as long as one run), missing keys and job role passwords are generated.
 */
async function upgrade(file: string, secrets: DevSecrets): Promise<DevSecrets> {
  const natsReadable = Object.values(secrets.nats).every((value) => NATS_PASSWORD.test(value));
  if (
    natsReadable &&
    secrets.keys.audit.secrets !== undefined &&
    secrets.postgresJobs !== undefined
  )
    return secrets;
  const upgraded: DevSecrets = {
    ...secrets,
    postgresJobs: secrets.postgresJobs ?? jobPasswords(),
    nats: natsReadable ? secrets.nats : natsPasswords(),
    keys: {
      ...secrets.keys,
      audit: { ...secrets.keys.audit, secrets: secrets.keys.audit.secrets ?? secretKey() },
    },
  };
  await writeFile(file, `${JSON.stringify(upgraded, null, 2)}\n`, { mode: 0o600 });
  return upgraded;
}
