import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'
import { recordConsoleLog } from './test/secrets/console.ts'

export default defineConfig({
  // `gemgate` imported by a plugin is core's sources here, not dist/ (package.json exports, as tsc and tsx see it).
  ssr: { resolve: { conditions: ['gemgate-source', ...defaultServerConditions] } },
  test: {
    // Each plugin's tests live beside it (plugins/<name>/*.test.ts), as Hono keeps each middleware's.
    include: ['test/**/*.test.ts', 'plugins/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // The suites start real servers and databases; files run in parallel workers, tests inside a file in order.
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
    // The leak check: after every file has run, no configured key or token may appear in full in what was recorded.
    globalSetup: ['./test/secrets/global-setup.ts'],
    onConsoleLog: recordConsoleLog,
  },
})
