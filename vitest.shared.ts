import { defineConfig } from 'vitest/config';

/**
 * Test configuration shared by every package: workspace libraries resolve to their TypeScript
 * sources (the "@heroagent/source" export condition), so tests never run against a stale build.
 */
export function packageTestConfig(name: string) {
  return defineConfig({
    resolve: { conditions: ['@heroagent/source'] },
    ssr: { resolve: { conditions: ['@heroagent/source'] } },
    test: {
      name,
      include: ['src/**/*.spec.ts', 'test/**/*.test.ts'],
      environment: 'node',
      testTimeout: 30_000,
      hookTimeout: 60_000,
      restoreMocks: true,
    },
  });
}
