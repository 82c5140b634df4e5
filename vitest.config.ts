import { defineConfig } from 'vitest/config';

// CI sets LOGSEAL_VITEST_JSON so `.ci/run` can print the pass/fail count from vitest's JSON report.
const jsonReport = process.env.LOGSEAL_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: jsonReport ? ['default', 'json'] : ['default'],
    outputFile: jsonReport ? { json: jsonReport } : undefined,
  },
});
