import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditConfigSchema, startAudit } from '@heroagent/audit';
import {
  issueToken,
  queryAuditRecords,
  SEALED_TOKEN_PURPOSE,
  type AuditRecord,
} from '@heroagent/contracts';
import { open, signJson, type JsonValue } from '@heroagent/crypto';
import { OidcProviderDouble, TestBrowser } from '@heroagent/doubles';
import { gatewayConfigSchema, startGateway, type RunningGateway } from '@heroagent/gateway';
import { ContractClient, type RunningService } from '@heroagent/service';
import { freePort } from '@heroagent/service/testing';
import { createLogger } from '@heroagent/telemetry';
import { startVaultProxy, vaultProxyConfigSchema } from '@heroagent/vault-proxy';
import {
  googleDoubleEnv,
  startPlatformFixture,
  type PlatformFixture,
} from '../support/platform.js';

const GMAIL_READ = 'https://www.googleapis.com/auth/gmail.readonly';

// Sign-in and connecting a Google account across the real gateway, vault-proxy and audit, under
// the deploy/nats permissions, against the OpenID Connect provider double standing in for Google.
describe(
  'sign in, connect Google, use and revoke the connection (gateway, vault-proxy, audit)',
  { timeout: 90_000 },
  () => {
    let platform: PlatformFixture;
    let provider: OidcProviderDouble;
    let gateway: RunningGateway;
    let origin: string;
    let asGateway: ContractClient;
    const services: RunningService[] = [];

    beforeAll(async () => {
      platform = await startPlatformFixture();
      const port = await freePort();
      origin = `http://127.0.0.1:${port}`;
      provider = await OidcProviderDouble.start({
        redirectUris: [
          `${origin}/v1/auth/google/callback`,
          `${origin}/v1/connections/google/callback`,
        ],
      });
      const google = googleDoubleEnv(provider, origin);
      const logger = (service: string) => createLogger({ service, level: 'silent' });
      services.push(
        await startAudit(auditConfigSchema.parse(platform.env('audit')), logger('audit')),
      );
      services.push(
        await startVaultProxy(
          vaultProxyConfigSchema.parse(platform.env('vault-proxy', google['vault-proxy'])),
          logger('vault-proxy'),
        ),
      );
      const gatewayConfig = gatewayConfigSchema.parse(platform.env('gateway', google.gateway));
      gateway = await startGateway(gatewayConfig, logger('gateway'));
      asGateway = ContractClient.create(gatewayConfig.nats, 'gateway');
      await asGateway.connect();
    });

    afterAll(async () => {
      await asGateway?.close();
      await gateway?.close();
      for (const service of services.reverse()) await service.close();
      await provider?.close();
      await platform?.stop();
    });

    it('works end to end, and audit holds the gateway’s signed record of it', async () => {
      const browser = new TestBrowser();
      const leaves = (location: URL) =>
        location.origin === origin && !location.pathname.startsWith('/v1/');
      provider.nextUser({ sub: 'ada-1', email: 'ada@example.com', name: 'Ada' });
      expect((await browser.follow(`${origin}/v1/auth/google/start`, leaves)).status).toBe(303);
      const session = (await (await browser.fetch(`${origin}/v1/session`)).json()) as {
        user: { id: string };
        tenant: { id: string };
        csrfToken: string;
      };

      provider.nextUser({ sub: 'ada-work', email: 'ada@work.example', name: 'Ada' });
      const connected = await browser.follow(
        `${origin}/v1/connections/google/start?scopes=gmail.read`,
        leaves,
      );
      expect(connected.status).toBe(303);
      const { connections } = (await (await browser.fetch(`${origin}/v1/connections`)).json()) as {
        connections: { id: string; account: string; scopes: string[]; health: string }[];
      };
      expect(connections).toEqual([
        expect.objectContaining({
          account: 'ada@work.example',
          scopes: [GMAIL_READ],
          health: 'working',
        }),
      ]);
      const connectionId = connections[0]!.id;

      // vault-proxy holds a refresh token that works: it refreshes at the provider for a token.
      const grant = {
        tenantId: session.tenant.id,
        userId: session.user.id,
        connectionId,
        scopes: [GMAIL_READ],
        requestId: randomUUID(),
        issuedAt: new Date().toISOString(),
      };
      const issued = await asGateway.request(issueToken, {
        grant,
        signature: signJson(
          grant as unknown as JsonValue,
          issueToken.subject,
          platform.keys.gatewaySigning,
        ),
      });
      const accessToken = open(issued.token, platform.keys.gatewaySealing, {
        sender: 'vault-proxy',
        recipient: 'gateway',
        purpose: SEALED_TOKEN_PURPOSE,
      }).toString('utf8');
      expect(accessToken.length).toBeGreaterThan(10);
      const before = provider.revokedTokens.length;
      // Google's token endpoint was called by vault-proxy alone: once per sign-in or connection
      // (the code exchanges) and once for the refresh above.
      expect(provider.tokenRequests).toBe(3);

      // Revoking through the gateway: unusable at once, then revoked at the provider by
      // vault-proxy's queue, with a receipt.
      const revoked = await browser.fetch(`${origin}/v1/connections/${connectionId}`, {
        method: 'DELETE',
        headers: { 'x-csrf-token': session.csrfToken },
      });
      expect(revoked.status).toBe(204);
      type Listed = { connections: { health: string; revocation?: { providerAnswer?: string } }[] };
      let listed: Listed = { connections: [] };
      for (let attempt = 0; attempt < 50; attempt += 1) {
        listed = (await (await browser.fetch(`${origin}/v1/connections`)).json()) as Listed;
        if (listed.connections[0]?.health === 'revoked') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(listed.connections[0]).toMatchObject({
        health: 'revoked',
        revocation: { status: 'completed', providerAnswer: 'revoked' },
      });
      expect(provider.revokedTokens.length).toBe(before + 1);

      // The gateway's events reached audit's chain, signed by the gateway; the receipt among them
      // once the gateway's housekeeping (every 5 s) turned it into its audit event.
      let records: AuditRecord[] = [];
      for (let attempt = 0; attempt < 150; attempt += 1) {
        ({ records } = await asGateway.request(queryAuditRecords, {
          viewer: { tenantId: session.tenant.id, userId: session.user.id, role: 'owner' },
        }));
        const seen = new Set(records.map((record) => record.envelope.event.name));
        if (
          [
            'account.created',
            'connection.created',
            'connection.revoked',
            'connection.revocation_confirmed',
          ].every((n) => seen.has(n))
        ) {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const names = records.map((record) => record.envelope.event.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'account.created',
          'connection.created',
          'connection.revoked',
          'connection.revocation_confirmed',
        ]),
      );
      for (const record of records.filter((r) => r.envelope.event.source === 'gateway')) {
        expect(record.envelope.signature.kid).toBe(platform.keys.gatewaySigning.kid);
      }
    });
  },
);
