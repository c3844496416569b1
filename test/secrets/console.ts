// vitest's onConsoleLog (main process): every console line of every test file goes into the recording as well.

import { appendFileSync } from 'node:fs'
import { join } from 'node:path'

/** Records the line and lets vitest print it as usual (returns nothing). */
export function recordConsoleLog(log: string, type: 'stdout' | 'stderr'): void {
  const dir = process.env.GEMGATE_LEAK_DIR
  if (dir) appendFileSync(join(dir, 'output-console.log'), `== console ${type}\n${log}\n`)
}
