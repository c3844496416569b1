import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // The suites start real servers and databases; files run in parallel workers, tests inside a file in order.
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
})
