// `npm run bench`: a benchmark, not a test. The gateway against the fake upstream called directly (the floor) and
// a bare node:http forwarding proxy (the cost of a Node hop), each in its own process; prints a markdown table
// of ratios against DESIGN.md "Performance budget".
// Env: BENCH_DURATION (s, measured throughput run, default 8), BENCH_QUICK=1 (smoke run, ~30 s),
//      BENCH_CHUNK_INTERVAL_MS (fake upstream's delay between stream chunks, default 0).
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { measureBurst, renderBurstTable, type BurstResult } from './concurrency.ts'
import { measureDialects, renderDialectTable } from './dialects.ts'
import { WITHOUT_LOGS, WITHOUT_PLUGINS, measureCost, renderCostTable, startGatewayWith } from './variants.ts'
import { measureLatency, measureThroughput, peakRssMb } from './measure.ts'
import type { LatencyResult, RequestSpec, ThroughputResult } from './measure.ts'
import { assertAlive, freePort, killAllNow, start, stop, stopAll, waitForHttp, waitForOutput } from './processes.ts'

const quick = process.env.BENCH_QUICK === '1'
const settings = {
  duration: Number(process.env.BENCH_DURATION) || (quick ? 2 : 8),
  warmupSeconds: quick ? 1 : 2,
  latencyWarmup: quick ? 10 : 50,
  latencyCount: quick ? 60 : 300,
  connections: 64,
  chunkIntervalMs: process.env.BENCH_CHUNK_INTERVAL_MS ?? '0',
  burst: quick ? 256 : 2048,
}
const BODY = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hello there, how are you?' }] }] })
const ROUTES = [
  { name: 'generateContent', path: '/v1beta/models/gemini-2.5-flash:generateContent', stream: false },
  { name: 'stream (64 chunks)', path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', stream: true },
] as const
const TARGETS = ['direct', 'bare', 'gateway'] as const
type TargetName = (typeof TARGETS)[number]
interface Measured {
  latency: LatencyResult
  throughput: ThroughputResult
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gemgate-bench-'))
const log = (message: string): void => void process.stderr.write(`bench: ${message}\n`)

async function main(): Promise<void> {
  log(`starting (${quick ? 'quick' : 'full'}; node ${process.version}, ${os.cpus().length} CPUs)`)
  const fake = start('fake-upstream', ['--import', 'tsx', 'test/fake-upstream/main.ts'], {
    FAKE_PORT: '0',
    FAKE_HOST: '127.0.0.1',
    FAKE_LATENCY_MS: '20',
    FAKE_CHUNKS: '64',
    FAKE_CHUNK_INTERVAL_MS: settings.chunkIntervalMs,
    FAKE_RECORD: '0',
  })
  const fakeOrigin = (await waitForOutput(fake, /fake-upstream listening on (http:\/\/[\d.:]+)/))[1] as string

  const bare = start('bare-proxy', ['--import', 'tsx', 'bench/bare-proxy.ts'], {
    UPSTREAM: fakeOrigin,
    UPSTREAM_KEY: 'bench-key-1',
    PORT: '0',
  })
  const gatewayOrigin = `http://127.0.0.1:${await freePort()}`
  const gatewayEnv = {
    HOST: '127.0.0.1',
    API_KEYS: '["bench-key-1","bench-key-2","bench-key-3"]',
    ALLOWED_TOKENS: '["sk-bench"]',
    BASE_URL: `${fakeOrigin}/v1beta`,
    LOG_LEVEL: 'warn',
    CHECK_INTERVAL_HOURS: '0',
  }
  const gateway = start('gateway', ['--import', 'tsx', 'serve.ts'], { ...gatewayEnv, PORT: new URL(gatewayOrigin).port, DATA_DIR: dataDir })
  const [bareMatch] = await Promise.all([
    waitForOutput(bare, /bare-proxy listening on (http:\/\/[\d.:]+)/),
    waitForHttp(gateway, `${gatewayOrigin}/health`),
  ])
  const gatewayReadyLines = gateway.lines
  const children = [fake, bare, gateway]
  const origins: Record<TargetName, { origin: string; key: string; cpuPid?: number }> = {
    direct: { origin: fakeOrigin, key: 'bench-key-1' },
    bare: { origin: bareMatch[1] as string, key: 'sk-bench', cpuPid: bare.pid },
    gateway: { origin: gatewayOrigin, key: 'sk-bench', cpuPid: gateway.pid },
  }

  const results = new Map<string, Record<TargetName, Measured>>()
  let gatewayRequests = 0
  for (const route of ROUTES) {
    const measured = {} as Record<TargetName, Measured>
    const specs = {} as Record<TargetName, RequestSpec>
    for (const target of TARGETS) {
      const headers = { 'content-type': 'application/json', 'x-goog-api-key': origins[target].key }
      specs[target] = { origin: origins[target].origin, path: route.path, headers, body: BODY }
    }
    assertAlive(children)
    log(`${route.name}: latency, ${settings.latencyCount} sequential requests per target after ${settings.latencyWarmup}, targets interleaved`)
    const latencies = await measureLatency(TARGETS.map((t) => specs[t]), settings.latencyWarmup, settings.latencyCount)
    const latency = Object.fromEntries(TARGETS.map((t, i) => [t, latencies[i]])) as Record<TargetName, LatencyResult>
    for (const target of TARGETS) {
      assertAlive(children)
      log(`${route.name}: throughput, ${target} (${settings.connections} connections, ${settings.warmupSeconds} s + ${settings.duration} s)`)
      const { connections, warmupSeconds, duration } = settings
      const throughput = await measureThroughput(specs[target], connections, warmupSeconds, duration, origins[target].cpuPid)
      measured[target] = { latency: latency[target], throughput }
    }
    gatewayRequests += settings.latencyWarmup + settings.latencyCount
    gatewayRequests += measured.gateway.throughput.warmupRequests + measured.gateway.throughput.requests
    results.set(route.name, measured)
  }
  assertAlive(children)
  const dialects = await measureDialects(gatewayOrigin, 'sk-bench', gateway.pid, settings, log)
  const quiet = await startGatewayWith('gateway-nolog', WITHOUT_LOGS, gatewayEnv, dataDir)
  const bareConfig = await startGatewayWith('gateway-noplugins', WITHOUT_PLUGINS, gatewayEnv, dataDir)
  children.push(quiet.child, bareConfig.child)
  const self = { origin: gatewayOrigin, pid: gateway.pid }
  const logging = await measureCost(self, { origin: quiet.origin, pid: quiet.child.pid }, settings, 'logging', log)
  const plugins = await measureCost(self, { origin: bareConfig.origin, pid: bareConfig.child.pid }, settings, 'bundled plugins', log)
  gatewayRequests += logging.on.warmupRequests + logging.on.requests + plugins.on.warmupRequests + plugins.on.requests
  for (const { throughput } of dialects) {
    for (const run of [throughput.native, throughput.openai]) gatewayRequests += run.warmupRequests + run.requests
    gatewayRequests += 2 * (settings.latencyWarmup + settings.latencyCount)
  }
  assertAlive(children)
  const rss = { bare: peakRssMb(bare.pid), gateway: peakRssMb(gateway.pid) }

  // The stream budget is for a gateway that does nothing else: a fresh process, so its peak RSS is the burst's.
  const burstOrigin = `http://127.0.0.1:${await freePort()}`
  const fresh = start('gateway-burst', ['--import', 'tsx', 'serve.ts'], { ...gatewayEnv, PORT: new URL(burstOrigin).port, DATA_DIR: mkdtempSync(path.join(dataDir, 'burst-')) })
  children.push(fresh)
  await waitForHttp(fresh, `${burstOrigin}/health`)
  const streamPath = ROUTES[1].path
  const burstSpec = (origin: string, key: string): RequestSpec => ({ origin, path: streamPath, headers: { 'content-type': 'application/json', 'x-goog-api-key': key }, body: BODY })
  log('fresh gateway: warm-up (JIT, upstream connections) before the burst')
  await measureLatency([burstSpec(burstOrigin, 'sk-bench')], settings.latencyWarmup * 4, 1)
  const burst = {} as Record<TargetName, BurstResult>
  for (const [target, origin, key] of [['direct', fakeOrigin, 'bench-key-1'], ['bare', origins.bare.origin, 'sk-bench'], ['gateway', burstOrigin, 'sk-bench']] as const) {
    log(`${settings.burst} concurrent streams: ${target}`)
    burst[target] = await measureBurst(burstSpec(origin, key), settings.burst)
  }
  const burstRss = peakRssMb(fresh.pid)

  const gatewayOutput = gateway.lines > gatewayReadyLines ? gateway.tail() : ''
  const gatewayLines = gateway.lines - gatewayReadyLines
  log('stopping')
  await stop(gateway, 10_000) // SIGTERM: the gateway flushes its request logs before exiting
  await stopAll()

  console.log(renderTable(results, rss))
  console.log(renderDialectTable(dialects))
  console.log(renderCostTable('logging', logging, 0.1))
  console.log(renderCostTable('bundled plugins', plugins, 0.05))
  console.log(renderBurstTable(settings.burst, burst, burstRss))
  console.log(renderNotes(results))
  console.log(`- gateway request log: ${countLogRows()} (about ${gatewayRequests} requests completed against the gateway)`)
  if (gatewayLines > 0) console.log(`- the gateway printed ${gatewayLines} line(s) during the run; last ones:\n\n${indent(gatewayOutput)}`)
}

// ---- report ----------------------------------------------------------------------------------

type Row = [metric: string, direct: string, bare: string, gateway: string, ratio: string, target: string, verdict: string]

function renderTable(results: Map<string, Record<TargetName, Measured>>, rss: { bare: number; gateway: number }): string {
  const rows: Row[] = []
  for (const route of ROUTES) {
    const m = results.get(route.name) as Record<TargetName, Measured>
    const lat = (t: TargetName) => m[t].latency
    const failed = TARGETS.some((t) => lat(t).failures > 0)
    const latencyRows = (label: string, pick: (r: LatencyResult) => number, budget?: { plus?: number; times?: number }) => {
      const [d, b, g] = TARGETS.map((t) => pick(lat(t))) as [number, number, number]
      rows.push([`${route.name}: ${label} (ms)`, ms(d), ms(b), ms(g), ratio(g, b), '', ''])
      const [bA, gA] = [b - d, g - d]
      let target = ''
      let verdict = ''
      if (budget?.plus !== undefined) {
        target = `added ≤ bare's + ${budget.plus} ms`
        verdict = check(gA <= bA + budget.plus, failed)
      } else if (budget?.times !== undefined) {
        target = `added ≤ ${budget.times}x bare's †`
        verdict = check(gA <= budget.times * Math.max(bA, 0), failed)
      }
      rows.push([`${route.name}: added ${label} (ms)`, '—', ms(bA), ms(gA), ratio(gA, bA), target, verdict])
    }
    latencyRows('p50 @c=1', (r) => r.p50, { plus: 0.3 })
    latencyRows('p99 @c=1', (r) => r.p99, { plus: 1 })
    if (route.stream) {
      latencyRows('first chunk p50 @c=1', (r) => r.firstP50)
      latencyRows('first chunk p99 @c=1', (r) => r.firstP99, { times: 1.5 })
    }
    const tp = (t: TargetName) => m[t].throughput
    const [d, b, g] = TARGETS.map((t) => tp(t).rps) as [number, number, number]
    const tpFailed = TARGETS.some((t) => tp(t).problems > 0)
    rows.push([`${route.name}: throughput @${settings.connections} conns (req/s)`, num(d), num(b), num(g), ratio(g, b), '≥ 0.8x bare', check(g >= 0.8 * b, tpFailed)])
    const [bc, gc] = [tp('bare').cpuMsPerRequest ?? NaN, tp('gateway').cpuMsPerRequest ?? NaN]
    rows.push([`${route.name}: CPU per request (ms)`, '—', ms(bc, 3), ms(gc, 3), ratio(gc, bc), '≤ 0.3 ms', check(gc <= 0.3, tpFailed)])
    const [bBusy, gBusy] = [(bc * b) / 10, (gc * g) / 10] // ms per request × req/s / 1000 ms × 100 %
    rows.push([`${route.name}: process CPU busy (% of one core)`, '—', num(bBusy), num(gBusy), ratio(gBusy, bBusy), 'info', ''])
  }
  rows.push(['peak RSS at end (MB, VmHWM)', '—', num(rss.bare), num(rss.gateway), ratio(rss.gateway, rss.bare), 'info ‡', ''])

  const header: Row = ['metric', 'direct', 'bare proxy', 'gateway', 'gateway/bare', 'target', 'PASS/MISS']
  const line = (r: Row) => `| ${r.join(' | ')} |`
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n')
}

function renderNotes(results: Map<string, Record<TargetName, Measured>>): string {
  const notes = [
    '',
    `- fake upstream: 20 ms before headers, 64 chunks ${settings.chunkIntervalMs} ms apart; latency: ${settings.latencyCount} sequential requests after ${settings.latencyWarmup} warm-up, one keep-alive connection per target, requests to direct/bare/gateway interleaved; throughput: autocannon ${settings.connections} connections, ${settings.duration} s after ${settings.warmupSeconds} s warm-up; everything shares this machine's ${os.cpus().length} CPUs.`,
    `- "added" = target minus direct. CPU = utime+stime of the proxy process during the measured run / completed requests.`,
    `- † DESIGN.md sets first-chunk p99 ≤ 1.5x the bare proxy's for 2,048 concurrent streams; here it is applied at concurrency 1.`,
    `- ‡ the peak after all the runs above; DESIGN.md's ≤ 200 MB applies to the concurrent-stream burst, measured on a fresh gateway in the last table.`,
  ]
  for (const [route, measured] of results) {
    for (const target of TARGETS) {
      const { latency, throughput } = measured[target]
      if (latency.failures > 0) {
        notes.push(`- PROBLEM ${route}, ${target}, latency: ${latency.failures} failed request(s), e.g. ${latency.failureSamples.join(' || ')}`)
      }
      if (throughput.problems > 0) notes.push(`- PROBLEM ${route}, ${target}, throughput: ${throughput.detail}`)
    }
  }
  return notes.join('\n')
}

function countLogRows(): string {
  const file = path.join(dataDir, 'gemgate.db')
  if (!existsSync(file)) return `no ${file}`
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true })
    try {
      const { n } = db.prepare('SELECT COUNT(*) AS n FROM request_logs').get() as { n: number }
      return `${n} rows in request_logs (SQLite)`
    } finally {
      db.close()
    }
  } catch (error) {
    return `could not read ${file}: ${String(error)}`
  }
}

const ms = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a')
const num = (value: number): string => (Number.isFinite(value) ? Math.round(value).toString() : 'n/a')
const ratio = (a: number, b: number): string => (Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a')
const check = (ok: boolean, errors: boolean): string => (errors ? 'MISS (errors)' : ok ? 'PASS' : 'MISS')
const indent = (text: string): string => text.replace(/^/gm, '    ')

// ---- lifecycle: children die with us ---------------------------------------------------------

process.on('exit', () => {
  killAllNow()
  rmSync(dataDir, { recursive: true, force: true })
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping children`)
    void stopAll().finally(() => process.exit(130))
  })
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`)
    await stopAll()
    process.exit(1)
  },
)
