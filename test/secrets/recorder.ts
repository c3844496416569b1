// The test side of the leak check: what a test's gateways said (response bodies and headers, log lines), which
// secrets they were given and where their databases live, appended to the run's recording directory. The global
// teardown (global-setup.ts) searches all of it once every test file has finished.

import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { inject } from 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's recording directory (empty when the leak check is not set up). */
    leakCheckDir: string
  }
}

/** Recordings collect in memory and go to disk past this size, at `flushRecording` and at exit: appends stay few. */
const FLUSH_AT = 1 << 20

const dir = recordingDir()
const pending = new Map<string, Buffer[]>()
let pendingSize = 0
const NEWLINE = Buffer.from('\n')

function recordingDir(): string {
  try {
    return inject('leakCheckDir') || process.env.GEMGATE_LEAK_DIR || ''
  } catch {
    return process.env.GEMGATE_LEAK_DIR ?? '' // outside a vitest worker
  }
}

/** Whether a leak check will look at what is recorded (so callers can skip building what nobody reads). */
export const recording = (): boolean => dir !== ''

/** Appends `data` (bytes kept as they are) and a newline to the recording `kind` (one file per kind and process). */
export function record(kind: 'responses' | 'logs' | 'output' | 'databases', data: string | Buffer): void {
  if (!dir) return
  let list = pending.get(kind)
  if (!list) pending.set(kind, (list = []))
  list.push(typeof data === 'string' ? Buffer.from(data) : data, NEWLINE)
  pendingSize += data.length
  if (pendingSize > FLUSH_AT) flushRecording()
}

/** Secrets the leak check must not find anywhere in full (API keys, client and admin tokens, passwords). */
export function registerSecrets(secrets: Iterable<string | undefined>): void {
  const lines = [...secrets].filter((s): s is string => typeof s === 'string' && s !== '').map((s) => JSON.stringify(s))
  if (dir && lines.length > 0) appendFileSync(join(dir, `secrets-${process.pid}.jsonl`), lines.join('\n') + '\n')
}

/** A gateway's DATA_DIR: the teardown searches its files and SQLite databases. */
export function registerDataDir(path: string): void {
  if (dir) appendFileSync(join(dir, `datadirs-${process.pid}.jsonl`), JSON.stringify(path) + '\n')
}

/** Writes what is pending (the harness calls it when a gateway closes; exit does too). */
export function flushRecording(): void {
  if (!dir || pendingSize === 0) return
  for (const [kind, list] of pending) {
    if (list.length > 0) appendFileSync(join(dir, `${kind}-${process.pid}.log`), Buffer.concat(list))
  }
  pending.clear()
  pendingSize = 0
}

process.once('exit', flushRecording)
