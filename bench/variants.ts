// What one part of the gateway costs: the same gateway (the repo's gateway.config.ts) against a second one that
// differs in one setting, each in its own process. Two such pairs: request logging (the `log` stage, DESIGN.md:
// ≤ 10% throughput) and the bundled plugins on a request that uses none of their features (≤ 5%).
import { mkdtempSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { combineRuns, measureThroughput, type RepeatedThroughput, type ThroughputResult } from './measure.ts'
import { freePort, start, waitForHttp, type Child } from './processes.ts'

export interface CostSettings {
  connections: number
  warmupSeconds: number
  duration: number
  repeats: number
}

export interface CostResult {
  on: RepeatedThroughput
  off: RepeatedThroughput
}

/** The repo's gateway.config.ts with `change` spread over it, e.g. `{ plugins: [] }`. */
export async function startGatewayWith(name: string, change: string, env: Record<string, string>, baseDir: string): Promise<{ child: Child; origin: string }> {
  const dir = mkdtempSync(path.join(baseDir, `${name}-`))
  const repoConfig = path.join(process.cwd(), 'gateway.config.ts')
  writeFileSync(path.join(dir, 'gateway.config.ts'), `import base from ${JSON.stringify(repoConfig)}\nexport default { ...base, ...${change} }\n`)
  const origin = `http://127.0.0.1:${await freePort()}`
  // Built gemgate (buildForNode) in the folder of that config: it loads cwd's gateway.config.ts against the running core.
  const child = start(name, [path.join(process.cwd(), 'dist/serve.js')], { ...env, PORT: new URL(origin).port, DATA_DIR: dir }, dir)
  await waitForHttp(child, `${origin}/health`)
  return { child, origin }
}

export const WITHOUT_LOGS = `{ pipeline: ['auth', 'model-filter', 'transform', 'stream-optimizer', 'key-select', 'upstream'] }`
export const WITHOUT_PLUGINS = '{ plugins: [] }'

/** Throughput of a plain generateContent (a model no plugin variant names) on both gateways, one after the other. */
export async function measureCost(
  on: { origin: string; pid: number },
  off: { origin: string; pid: number },
  s: CostSettings,
  what: string,
  log: (m: string) => void,
): Promise<CostResult> {
  const spec = (origin: string) => ({
    origin,
    path: '/v1beta/models/gemini-2.5-flash:generateContent',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'sk-bench' },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hello there, how are you?' }] }] }),
  })
  const withIt: ThroughputResult[] = []
  const withoutIt: ThroughputResult[] = []
  for (let round = 1; round <= s.repeats; round++) {
    log(`${what}: throughput ${round}/${s.repeats} with it`)
    withIt.push(await measureThroughput(spec(on.origin), s.connections, s.warmupSeconds, s.duration, on.pid))
    log(`${what}: throughput ${round}/${s.repeats} without it`)
    withoutIt.push(await measureThroughput(spec(off.origin), s.connections, s.warmupSeconds, s.duration, off.pid))
  }
  return { on: combineRuns(withIt), off: combineRuns(withoutIt) }
}

export function renderCostTable(what: string, r: CostResult, budget: number): string {
  const cost = 1 - r.on.rps / r.off.rps
  const errors = r.on.problems + r.off.problems > 0
  const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(3))
  return [
    '',
    `| metric | ${what} off | ${what} on | cost | target | PASS/MISS |`,
    '|---|---|---|---|---|---|',
    `| generateContent throughput @64 conns (req/s) | ${Math.round(r.off.rps)} | ${Math.round(r.on.rps)} | ${(cost * 100).toFixed(1)}% | ≤ ${budget * 100}% | ${errors ? 'MISS (errors)' : cost <= budget ? 'PASS' : 'MISS'} |`,
    `| generateContent CPU per request (ms) | ${ms(r.off.cpuMsPerRequest)} | ${ms(r.on.cpuMsPerRequest)} | ${ms((r.on.cpuMsPerRequest ?? NaN) - (r.off.cpuMsPerRequest ?? NaN))} | info | |`,
  ].join('\n')
}
