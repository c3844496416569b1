// `npm run bench`: a benchmark, not a test. In one run, each in its own process, against one fake upstream: the
// upstream called directly (the floor), a bare node:http proxy (the cost of a Node hop), gemgate on Node, gemgate on
// Bun and Portkey's open-source gateway. Prints the tables against DESIGN.md "Performance budget" (ratios to the
// bare proxy and to Portkey), and after a full run writes docs/bench-latest.md and docs/bench-latest.svg.
// Env: BENCH_QUICK=1 (smoke run, a few minutes, prints only), BENCH_DURATION (s per throughput run, default 8),
//      BENCH_REPEATS (throughput runs per cell, default 2; a warning when they disagree by more than 20%),
//      BENCH_CHUNK_INTERVAL_MS (fake upstream's delay between stream chunks, default 0),
//      BENCH_PROFILE (0: no CPU profiles, 1: one per scenario; default: the scenarios gemgate on Node misses).
// Key picking alone (a few seconds, in this process): `npm run bench -- --picking`.
// Soak (`npm run bench -- --soak` or BENCH_SOAK=1): BENCH_SOAK_MINUTES (10), BENCH_SOAK_RPS (per gateway, 200),
//      BENCH_SOAK_SAMPLE_S (5), BENCH_SOAK_TOLERANCE (0.05: the last third's RSS may exceed the middle third's by 5%).
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { writeDocs } from './docs.ts'
import type { RepeatedThroughput } from './measure.ts'
import { countLogRows, notes, printedSince } from './notes.ts'
import { assertAlive, killAllNow, stop, stopAll } from './processes.ts'
import { measurePicking, renderPicking } from './picking.ts'
import { profileMisses } from './profile.ts'
import { burstRows, disagreements, mainRows, renderRows, renderSoak, SECTIONS, type Results } from './report.ts'
import { measureBursts, measureKind, type Settings } from './scenarios.ts'
import { runSoak, type SoakSettings } from './soak.ts'
import { LABELS, buildForNode, countStreamEvents, gemgateEnv, requestFor, startBare, startFake, startGemgate, startPortkey } from './systems.ts'
import type { Cell, System } from './systems.ts'
import { WITHOUT_LOGS, WITHOUT_PLUGINS, measureCost, renderCostTable, startGatewayWith } from './variants.ts'

const env = process.env
const quick = env.BENCH_QUICK === '1'
const settings: Settings = {
  duration: Number(env.BENCH_DURATION) || (quick ? 2 : 8),
  warmupSeconds: quick ? 1 : 2,
  latencyWarmup: quick ? 10 : 50,
  latencyCount: quick ? 60 : 300,
  connections: 64,
  repeats: Math.max(1, Number(env.BENCH_REPEATS) || 2),
  burst: quick ? 256 : 2048,
}
const chunkIntervalMs = env.BENCH_CHUNK_INTERVAL_MS ?? '0'
const soakSettings: SoakSettings | undefined =
  process.argv.includes('--soak') || env.BENCH_SOAK === '1'
    ? {
        minutes: Number(env.BENCH_SOAK_MINUTES) || 10,
        rps: Number(env.BENCH_SOAK_RPS) || 200,
        sampleSeconds: Number(env.BENCH_SOAK_SAMPLE_S) || 5,
        tolerance: Number(env.BENCH_SOAK_TOLERANCE) || 0.05,
      }
    : undefined
const NOISE_LIMIT = 0.2

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gemgate-bench-'))
const freshDir = (name: string) => mkdtempSync(path.join(dataDir, `${name}-`))
const log = (message: string): void => void process.stderr.write(`bench: ${message}\n`)

async function main(): Promise<void> {
  const startedAt = new Date()
  const loadBefore = os.loadavg()[0] as number
  // In this process, before any server starts: nothing else is running yet.
  log('key picking at 5,000 keys, per strategy')
  const picking = renderPicking(measurePicking())
  if (process.argv.includes('--picking')) {
    console.log(picking)
    return
  }
  log(`starting (${quick ? 'quick' : 'full'}; node ${process.version}, ${os.cpus().length} CPUs, load ${loadBefore.toFixed(2)})`)
  buildForNode()
  const fake = await startFake(chunkIntervalMs)
  const upstream = fake.origin
  const streamEvents = await countStreamEvents(fake)
  const nodeDir = freshDir('node')
  const bunDir = freshDir('bun')
  const [bare, node, bun, portkey] = await Promise.all([
    startBare(upstream),
    startGemgate('node', upstream, nodeDir, 'gateway'),
    startGemgate('bun', upstream, bunDir, 'gateway-bun'),
    startPortkey(upstream),
  ])
  const readyLines = new Map([node, bun, portkey].map((s) => [s, s.child.lines]))
  const children = [fake, bare, node, bun, portkey].map((s) => s.child)
  const cells: Cell[] = [
    { system: fake, shape: 'native' },
    { system: bare, shape: 'native' },
    { system: node, shape: 'native' },
    { system: node, shape: 'openai' },
    { system: bun, shape: 'native' },
    { system: bun, shape: 'openai' },
    { system: portkey, shape: 'openai' },
  ]

  const kinds = {} as Results['kinds']
  for (const kind of ['unary', 'stream'] as const) {
    assertAlive(children)
    kinds[kind] = await measureKind(kind, cells, settings, log)
  }

  assertAlive(children)
  const gatewayEnv = gemgateEnv(upstream)
  const quiet = await startGatewayWith('gateway-nolog', WITHOUT_LOGS, gatewayEnv, dataDir)
  const noPlugins = await startGatewayWith('gateway-noplugins', WITHOUT_PLUGINS, gatewayEnv, dataDir)
  const self = { origin: node.origin, pid: node.child.pid }
  const logging = await measureCost(self, { origin: quiet.origin, pid: quiet.child.pid }, settings, 'logging', log)
  const plugins = await measureCost(self, { origin: noPlugins.origin, pid: noPlugins.child.pid }, settings, 'bundled plugins', log)
  await Promise.all([stop(quiet.child), stop(noPlugins.child)])

  // The main gateways are done: stop them (SIGTERM flushes the request logs) so the bursts run on a quieter machine.
  assertAlive(children)
  const printed = [node, bun, portkey].map((s) => printedSince(s, readyLines.get(s) ?? 0))
  await Promise.all([stop(node.child, 15_000), stop(bun.child, 15_000), stop(portkey.child), stop(bare.child)])
  const logRows = { node: countLogRows(nodeDir), bun: countLogRows(bunDir) }

  const fresh = (cell: Cell): Promise<System> => {
    const name = `${cell.system.name}-burst-${cell.shape}`
    if (cell.system.name === 'bare') return startBare(upstream, name)
    if (cell.system.name === 'portkey') return startPortkey(upstream, name)
    return startGemgate(cell.system.name === 'bun' ? 'bun' : 'node', upstream, freshDir(name), name)
  }
  const bursts = await measureBursts(cells, fresh, settings, log)

  let soak: Results['soak']
  if (soakSettings) {
    const [soakNode, soakBun] = await Promise.all([
      startGemgate('node', upstream, freshDir('soak-node'), 'soak-node'),
      startGemgate('bun', upstream, freshDir('soak-bun'), 'soak-bun'),
    ])
    const specs = (system: System) => SECTIONS.map(({ shape, kind }) => requestFor({ system, shape }, kind))
    log(`soak: ${soakSettings.minutes} min at ${soakSettings.rps} req/s on gemgate Node and gemgate Bun at once, RSS every ${soakSettings.sampleSeconds} s`)
    const results = await runSoak(
      [soakNode, soakBun].map((system) => ({ label: LABELS[system.name], pid: system.child.pid, specs: specs(system) })),
      soakSettings,
      log,
    )
    await Promise.all([stop(soakNode.child, 15_000), stop(soakBun.child, 15_000)])
    soak = { settings: soakSettings, results }
  }

  const results: Results = { settings, kinds, bursts, ...(soak && { soak }) }
  const main = mainRows(results)
  const burst = burstRows(results)
  const profiles = env.BENCH_PROFILE === '0' ? [] : await profileMisses(results, main, burst, env.BENCH_PROFILE === '1', startProfiled(upstream), dataDir, log)
  await stopAll()

  const costs: [string, RepeatedThroughput][] = [
    ['logging on', logging.on],
    ['logging off', logging.off],
    ['bundled plugins on', plugins.on],
    ['bundled plugins off', plugins.off],
  ]
  const noisy = disagreements(results, costs, NOISE_LIMIT)
  const loadAfter = os.loadavg()[0] as number
  const sections = [
    '### Requests: added latency at concurrency 1, throughput and CPU at 64 connections',
    '',
    renderRows('scenario: metric', main),
    '',
    `### ${settings.burst} concurrent streams`,
    '',
    renderRows('path: metric', burst),
    '',
    '### What request logging and the bundled plugins cost (gemgate on Node)',
    renderCostTable('logging', logging, 0.1),
    renderCostTable('bundled plugins', plugins, 0.05),
    '',
    '### Soak',
    '',
    soak ? renderSoak(soak) : 'Not run in this run (`npm run bench -- --soak`).',
    '',
    '### Picking a key at 5,000 keys',
    '',
    picking,
    ...(profiles.length ? ['', '### Where gemgate on Node spends its CPU in the scenarios it misses', '', ...profiles] : []),
    '',
    '### Notes',
    '',
    ...notes(results, streamEvents, chunkIntervalMs, logRows, printed),
  ]
  const warning = noisy.length
    ? [
        `> **Noisy machine**: repeated throughput runs disagree by more than ${NOISE_LIMIT * 100}%; read those rows with care:`,
        ...noisy.map((n) => `> - ${n}`),
        '',
      ]
    : []
  for (const line of noisy) log(`WARNING repeats disagree: ${line}`)
  const body = [...warning, ...sections].join('\n')
  console.log(body)

  if (quick) {
    log('quick run: docs/ left as they are')
    return
  }
  const info = { startedAt, loadBefore, loadAfter, soak: soak !== undefined, streams: settings.burst }
  for (const file of writeDocs(info, body, main, burst, soak?.results)) log(`wrote ${path.relative(process.cwd(), file)}`)
}

const startProfiled = (upstream: string) => (nodeArgs: string[]) => startGemgate('node', upstream, freshDir('profile'), 'gateway-profile', nodeArgs)

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
