import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkExampleSecrets, scanForSecrets } from '../src/secrets-scan.js';

describe('committed secrets', () => {
  it('deploy/ and docs/ hold no real-looking secret, and the examples only placeholders', async () => {
    expect(await scanForSecrets()).toEqual([]);
  });

  it('a private key, a Vault token or an AWS key is found', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'deploy-check-scan-'));
    try {
      await mkdir(join(dir, 'nested'));
      // Built from parts, so this test file is not itself a finding.
      const header = ['-----BEGIN', 'PRIVATE KEY-----'].join(' ');
      await writeFile(join(dir, 'nested', 'key.pem'), `${header}\nMIIE\n`);
      await writeFile(
        join(dir, 'env'),
        `VAULT_TOKEN=${'hvs.'}${'A'.repeat(24)}\nKEY=${'AKIA'}${'ABCDEFGHIJKLMNOP'}\n`,
      );
      const problems = await scanForSecrets([dir]);
      expect(problems.join('\n')).toMatch(/key\.pem: holds a private key/);
      expect(problems.join('\n')).toMatch(/env: holds a Vault token/);
      expect(problems.join('\n')).toMatch(/env: holds an AWS access key id/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an example Secret with a real-looking value, or base64 data, is refused', () => {
    const text = `apiVersion: v1
kind: Secret
metadata: { name: s, namespace: heroagent }
stringData: { password: 'Tr0ub4dor&3-correct-horse' }
---
apiVersion: v1
kind: Secret
metadata: { name: t, namespace: heroagent }
data: { password: c2VjcmV0 }
`;
    expect(checkExampleSecrets(text, 'x.yaml')).toEqual([
      'x.yaml: s.password is not an obvious placeholder',
      'x.yaml: t: use stringData with placeholders, not data',
    ]);
  });
});
