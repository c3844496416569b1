// Runs the fake upstream as its own process (for the benchmark):
//   FAKE_PORT=0 FAKE_LATENCY_MS=20 FAKE_CHUNKS=64 node --import tsx test/fake-upstream/main.ts
// Env: FAKE_PORT (default 0 = any free port), FAKE_HOST (127.0.0.1), FAKE_LATENCY_MS, FAKE_CHUNKS,
// FAKE_CHUNK_INTERVAL_MS, FAKE_RECORD=1 to keep requests in memory (off by default so memory stays flat).
// Prints one line "fake-upstream listening on http://HOST:PORT", serves until SIGTERM/SIGINT.

import { startFakeUpstream } from './server.ts'

function envNumber(name: string): number | undefined {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return undefined
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) {
    console.error(`fake-upstream: ${name} must be a non-negative number, got "${raw}"`)
    process.exit(2)
  }
  return value
}

const options = {
  port: envNumber('FAKE_PORT') ?? 0,
  host: process.env.FAKE_HOST || '127.0.0.1',
  recordRequests: process.env.FAKE_RECORD === '1',
  ...optional('latencyMs', envNumber('FAKE_LATENCY_MS')),
  ...optional('streamChunks', envNumber('FAKE_CHUNKS')),
  ...optional('chunkIntervalMs', envNumber('FAKE_CHUNK_INTERVAL_MS')),
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number }
}

const fake = await startFakeUpstream(options)
console.log(`fake-upstream listening on ${fake.origin}`)

let stopping = false
const stop = (): void => {
  if (stopping) return
  stopping = true
  fake.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
