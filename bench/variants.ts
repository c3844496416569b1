// What request logging costs: the same gateway with and without the `log` stage (DESIGN.md: ≤ 10% throughput).
// The second gateway runs from a directory whose gateway.config.ts leaves `log` out of the pipeline.
import { mkdtempSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { measureThroughput, type ThroughputResult } from './measure.ts'
import { freePort, start, waitForHttp, type Child } from './processes.ts'

export interface LoggingSettings {
  connections: number
  warmupSeconds: number
  duration: number
}

/** `baseDir` holds the config and the database; the caller removes it. */
export async function startGatewayWithoutLogs(env: Record<string, string>, baseDir: string): Promise<{ child: Child; origin: string }> {
  const dir = mkdtempSync(path.join(baseDir, 'nolog-'))
  writeFileSync(path.join(dir, 'gateway.config.ts'), `export default { pipeline: ['auth', 'model-filter', 'transform', 'stream-optimizer', 'key-select', 'upstream'] }\n`)
  const origin = `http://127.0.0.1:${await freePort()}`
  const tsx = path.join(process.cwd(), 'node_modules/tsx/dist/esm/index.mjs')
  const child = start('gateway-nolog', ['--import', tsx, path.join(process.cwd(), 'serve.ts')], { ...env, PORT: new URL(origin).port, DATA_DIR: dir }, dir)
  await waitForHttp(child, `${origin}/health`)
  return { child, origin }
}

export async function measureLogging(
  on: { origin: string; pid: number },
  off: { origin: string; pid: number },
  s: LoggingSettings,
  log: (m: string) => void,
): Promise<{ on: ThroughputResult; off: ThroughputResult }> {
  const spec = (origin: string) => ({
    origin,
    path: '/v1beta/models/gemini-2.5-flash:generateContent',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'sk-bench' },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hello there, how are you?' }] }] }),
  })
  log('logging cost: throughput with the log stage')
  const withLogs = await measureThroughput(spec(on.origin), s.connections, s.warmupSeconds, s.duration, on.pid)
  log('logging cost: throughput without it')
  const withoutLogs = await measureThroughput(spec(off.origin), s.connections, s.warmupSeconds, s.duration, off.pid)
  return { on: withLogs, off: withoutLogs }
}

export function renderLoggingTable(r: { on: ThroughputResult; off: ThroughputResult }): string {
  const ratio = r.on.rps / r.off.rps
  const cost = 1 - ratio
  const errors = r.on.problems + r.off.problems > 0
  const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(3))
  return [
    '',
    '| metric | logging off | logging on | cost | target | PASS/MISS |',
    '|---|---|---|---|---|---|',
    `| generateContent throughput @64 conns (req/s) | ${Math.round(r.off.rps)} | ${Math.round(r.on.rps)} | ${(cost * 100).toFixed(1)}% | ≤ 10% | ${errors ? 'MISS (errors)' : cost <= 0.1 ? 'PASS' : 'MISS'} |`,
    `| generateContent CPU per request (ms) | ${ms(r.off.cpuMsPerRequest)} | ${ms(r.on.cpuMsPerRequest)} | ${ms((r.on.cpuMsPerRequest ?? NaN) - (r.off.cpuMsPerRequest ?? NaN))} | info | |`,
  ].join('\n')
}
