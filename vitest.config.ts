import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure logic beside the code, no I/O) and `e2e` (against real
// kube-apiservers of the local lab, started once per run by the global setup).
// The `@kuberelay/source` condition makes workspace packages resolve to their TypeScript
// sources, so tests never run against a stale build.
export default defineConfig({
  resolve: { conditions: ['@kuberelay/source'] },
  ssr: { resolve: { conditions: ['@kuberelay/source'] } },
  test: {
    // The JSON report lets .ci/run print one plain "N passed, N failed" line for CI.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/results.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{shared,proto,mgmt-server,agent}/src/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['e2e/src/**/*.test.ts'],
          globalSetup: ['e2e/src/lab/globalSetup.ts'],
          // Files share one lab; running them one at a time keeps the 2-core machine responsive
          // and the figures honest.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
