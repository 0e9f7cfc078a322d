import { z } from 'zod';
import { ed25519PublicKeyFromRaw, fromBase64Url, x25519PublicKeyFromRaw } from '@heroagent/crypto';
import {
  checkTransportSecurity,
  commonConfig,
  commonEnvSchema,
  flagSchema,
  pemFileSchema,
  loadConfigOrExit,
  schemaNameSchema,
  signingKeyEnvSchema,
} from '@heroagent/service';
import type { VaultAuth } from './secrets/vault/vault-connection.js';

const raw32 = (what: string) =>
  z
    .string()
    .refine(
      (text) => fromBase64Url(text.trim())?.length === 32,
      `must be ${what}: 32 bytes as unpadded base64url`,
    );

const jsonArray = <S extends z.ZodType>(item: S) =>
  z
    .string()
    .transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'must be a JSON array' });
        return z.NEVER;
      }
    })
    .pipe(z.array(item).min(1));

const optional = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));
const name = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a plain mount name');
const url = z.url({ protocol: /^https?$/ });

const envSchema = z
  .object({
    ...commonEnvSchema.shape,
    DATABASE_SCHEMA: schemaNameSchema.default('vault_proxy'),
    /** Signs what vault-proxy asserts. */
    SERVICE_SIGNING_KEY: signingKeyEnvSchema,
    /** The gateway's signing keys: only requests signed by one of them are answered. */
    GATEWAY_VERIFY_KEYS: jsonArray(
      z.strictObject({
        kid: z.string().min(1).max(128),
        publicKey: raw32('an Ed25519 public key'),
      }),
    ),
    /** The gateway's X25519 public key: every token and data key is sealed to it. */
    GATEWAY_SEALING_PUBLIC_KEY: raw32('an X25519 public key'),
    SECRETS_BACKEND: z.enum(['vault', 'embedded']).optional(),
    VAULT_ADDR: optional.pipe(url.optional()),
    VAULT_NAMESPACE: optional,
    /** The CA that verifies Vault's certificate (absent: the system's trust store). */
    VAULT_CACERT: pemFileSchema,
    /** In production an http:// VAULT_ADDR is refused unless this says plain HTTP is meant. */
    VAULT_ALLOW_HTTP: flagSchema,
    VAULT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    VAULT_AUTH_METHOD: z.enum(['token', 'approle', 'kubernetes']).default('token'),
    VAULT_TOKEN: optional,
    VAULT_ROLE_ID: optional,
    VAULT_SECRET_ID: optional,
    VAULT_K8S_ROLE: optional,
    VAULT_K8S_JWT_FILE: z.string().default('/var/run/secrets/kubernetes.io/serviceaccount/token'),
    VAULT_AUTH_MOUNT: name.optional(),
    VAULT_KV_MOUNT: name.default('heroagent-kv'),
    VAULT_TRANSIT_MOUNT: name.default('heroagent-transit'),
    /** The embedded store's key file (when not using Vault). */
    EMBEDDED_KEY_FILE: optional,
    /** Google's OAuth client: vault-proxy alone holds its secret and exchanges codes. */
    OAUTH_GOOGLE_CLIENT_ID: optional,
    OAUTH_GOOGLE_CLIENT_SECRET: optional,
    /** The issuer Google's ID tokens must name (the gateway's OAUTH_GOOGLE_ISSUER). */
    OAUTH_GOOGLE_ISSUER: url.default('https://accounts.google.com'),
    OAUTH_GOOGLE_TOKEN_URL: url.default('https://oauth2.googleapis.com/token'),
    OAUTH_GOOGLE_REVOKE_URL: url.default('https://oauth2.googleapis.com/revoke'),
    OAUTH_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    /** How often each replica looks for revocations due (one is also tried as soon as asked). */
    REVOCATION_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(10_000),
    /** Backoff of a revocation the provider did not confirm: first delay, and the longest. */
    REVOCATION_RETRY_BASE_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    REVOCATION_RETRY_MAX_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(3_600_000),
    /**
     * How long a revocation claimed by a replica that stopped answering is left before another
     * takes it over (default: longer than one attempt can take).
     */
    REVOCATION_LEASE_MS: z.coerce.number().int().min(100).max(3_600_000).optional(),
    /** A cached access token is refreshed once it has less than this left. */
    TOKEN_REFRESH_MARGIN_S: z.coerce.number().int().min(10).max(1800).default(120),
    /** How far a signed request's time may be from ours. */
    REQUEST_MAX_SKEW_S: z.coerce.number().int().min(5).max(600).default(120),
  })
  .superRefine((env, context) => {
    checkTransportSecurity(env, context);
    if (env.REVOCATION_RETRY_MAX_MS < env.REVOCATION_RETRY_BASE_MS) {
      context.addIssue({
        code: 'custom',
        path: ['REVOCATION_RETRY_MAX_MS'],
        message: 'must not be less than REVOCATION_RETRY_BASE_MS',
      });
    }
    const backend = env.SECRETS_BACKEND ?? (env.VAULT_ADDR === undefined ? 'embedded' : 'vault');
    const need = (field: keyof typeof env, why: string) => {
      if (env[field] === undefined)
        context.addIssue({ code: 'custom', path: [field], message: `is required ${why}` });
    };
    if (backend === 'embedded') need('EMBEDDED_KEY_FILE', 'for the embedded secrets store');
    if (backend === 'vault') {
      need('VAULT_ADDR', 'to use Vault');
      if (
        env.HEROAGENT_ENV === 'production' &&
        env.VAULT_ADDR?.startsWith('http:') === true &&
        !env.VAULT_ALLOW_HTTP
      ) {
        context.addIssue({
          code: 'custom',
          path: ['VAULT_ADDR'],
          message:
            'must be https in production (verified with VAULT_CACERT), or VAULT_ALLOW_HTTP=true if plain HTTP is meant',
        });
      }
      if (env.VAULT_AUTH_METHOD === 'token') need('VAULT_TOKEN', 'with VAULT_AUTH_METHOD=token');
      if (env.VAULT_AUTH_METHOD === 'approle') {
        need('VAULT_ROLE_ID', 'with VAULT_AUTH_METHOD=approle');
        need('VAULT_SECRET_ID', 'with VAULT_AUTH_METHOD=approle');
      }
      if (env.VAULT_AUTH_METHOD === 'kubernetes')
        need('VAULT_K8S_ROLE', 'with VAULT_AUTH_METHOD=kubernetes');
    }
  });

function vaultAuth(env: z.output<typeof envSchema>): VaultAuth {
  switch (env.VAULT_AUTH_METHOD) {
    case 'token':
      return { method: 'token', token: env.VAULT_TOKEN ?? '' };
    case 'approle':
      return {
        method: 'approle',
        roleId: env.VAULT_ROLE_ID ?? '',
        secretId: env.VAULT_SECRET_ID ?? '',
        mount: env.VAULT_AUTH_MOUNT ?? 'approle',
      };
    case 'kubernetes':
      return {
        method: 'kubernetes',
        role: env.VAULT_K8S_ROLE ?? '',
        jwtFile: env.VAULT_K8S_JWT_FILE,
        mount: env.VAULT_AUTH_MOUNT ?? 'kubernetes',
      };
  }
}

/** vault-proxy's configuration: its keys, the gateway's, where secrets are kept, the providers. */
export const vaultProxyConfigSchema = envSchema.transform((env) => ({
  ...commonConfig(env),
  schema: env.DATABASE_SCHEMA,
  signingKey: env.SERVICE_SIGNING_KEY,
  gateway: {
    verifyKeys: new Map(
      env.GATEWAY_VERIFY_KEYS.map((key) => [
        key.kid,
        ed25519PublicKeyFromRaw(fromBase64Url(key.publicKey)!),
      ]),
    ),
    sealingPublicKey: x25519PublicKeyFromRaw(fromBase64Url(env.GATEWAY_SEALING_PUBLIC_KEY)!),
  },
  secrets:
    (env.SECRETS_BACKEND ?? (env.VAULT_ADDR === undefined ? 'embedded' : 'vault')) === 'vault'
      ? ({
          backend: 'vault',
          vault: {
            address: env.VAULT_ADDR!,
            ...(env.VAULT_NAMESPACE === undefined ? {} : { namespace: env.VAULT_NAMESPACE }),
            ...(env.VAULT_CACERT === undefined ? {} : { caFile: env.VAULT_CACERT }),
            timeoutMs: env.VAULT_TIMEOUT_MS,
            auth: vaultAuth(env),
            strictWarnings: env.HEROAGENT_ENV === 'test',
          },
          mounts: { kv: env.VAULT_KV_MOUNT, transit: env.VAULT_TRANSIT_MOUNT },
        } as const)
      : ({ backend: 'embedded', keyFile: env.EMBEDDED_KEY_FILE! } as const),
  providers: {
    google: {
      clientId: env.OAUTH_GOOGLE_CLIENT_ID,
      clientSecret: env.OAUTH_GOOGLE_CLIENT_SECRET,
      issuers:
        env.OAUTH_GOOGLE_ISSUER === 'https://accounts.google.com'
          ? [env.OAUTH_GOOGLE_ISSUER, 'accounts.google.com']
          : [env.OAUTH_GOOGLE_ISSUER],
      tokenUrl: env.OAUTH_GOOGLE_TOKEN_URL,
      revokeUrl: env.OAUTH_GOOGLE_REVOKE_URL,
    },
  },
  oauthTimeoutMs: env.OAUTH_TIMEOUT_MS,
  // A waiter for a connection's refresh lock outlasts the provider call of the one before it.
  refreshWaitMs: refreshWaitMs(env.OAUTH_TIMEOUT_MS),
  revocations: {
    pollMs: env.REVOCATION_POLL_MS,
    // One attempt: the wait for the refresh lock, the provider call, the secrets store.
    leaseMs:
      env.REVOCATION_LEASE_MS ??
      refreshWaitMs(env.OAUTH_TIMEOUT_MS) + env.OAUTH_TIMEOUT_MS + 30_000,
    retryBaseMs: env.REVOCATION_RETRY_BASE_MS,
    retryMaxMs: env.REVOCATION_RETRY_MAX_MS,
  },
  tokens: { refreshMarginMs: env.TOKEN_REFRESH_MARGIN_S * 1000 },
  requestMaxSkewMs: env.REQUEST_MAX_SKEW_S * 1000,
}));
function refreshWaitMs(oauthTimeoutMs: number): number {
  return 2 * oauthTimeoutMs + 5_000;
}

export type VaultProxyConfig = z.output<typeof vaultProxyConfigSchema>;

/** Reads the environment once; a bad variable stops the process with its name. */
export function loadVaultProxyConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): VaultProxyConfig {
  return loadConfigOrExit('vault-proxy', vaultProxyConfigSchema, env);
}
