// The measured scenarios, each over every cell (a system in one API shape) that passed its probe: latency at
// concurrency 1 with the cells interleaved, throughput at 64 connections repeated with the cells interleaved, and
// the burst of concurrent streams on a fresh process per cell.
import { mkdtempSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { measureBurst, type BurstResult } from './concurrency.ts'
import { combineRuns, cpuMs, measureLatency, measureThroughput, peakRssMb } from './measure.ts'
import type { LatencyResult, RepeatedThroughput, ThroughputResult } from './measure.ts'
import { stop } from './processes.ts'
import { LABELS, cellId, probe, requestFor, type Cell, type Kind, type Shape, type System } from './systems.ts'

export interface Settings {
  duration: number
  warmupSeconds: number
  latencyWarmup: number
  latencyCount: number
  connections: number
  repeats: number
  burst: number
}

export interface CellResult {
  latency?: LatencyResult
  throughput?: RepeatedThroughput
  /** Why the cell was not measured (its probe failed). */
  skipped?: string
}

export type Log = (message: string) => void
export const label = (cell: Cell): string => `${LABELS[cell.system.name]} ${cell.shape}`

/** Latency then throughput of `kind` requests on every cell; the key of the map is cellId. */
export async function measureKind(kind: Kind, cells: Cell[], s: Settings, log: Log): Promise<Map<string, CellResult>> {
  const results = new Map<string, CellResult>()
  const live: Cell[] = []
  for (const cell of cells) {
    const problem = await probe(cell, kind)
    if (problem === undefined) live.push(cell)
    else {
      results.set(cellId(cell), { skipped: problem })
      log(`${kind}: ${label(cell)} left out: ${problem}`)
    }
  }
  const specs = live.map((cell) => requestFor(cell, kind))
  log(`${kind}: latency, ${s.latencyCount} sequential requests per cell after ${s.latencyWarmup}, ${live.length} cells interleaved`)
  const latencies = await measureLatency(specs, s.latencyWarmup, s.latencyCount)
  const runs = live.map((): ThroughputResult[] => [])
  for (let round = 1; round <= s.repeats; round++) {
    for (const [i, cell] of live.entries()) {
      log(`${kind}: throughput ${round}/${s.repeats}, ${label(cell)} (${s.connections} connections, ${s.warmupSeconds} s + ${s.duration} s)`)
      const pid = cell.system.name === 'direct' ? undefined : cell.system.child.pid
      runs[i]?.push(await measureThroughput(specs[i]!, s.connections, s.warmupSeconds, s.duration, pid))
    }
  }
  for (const [i, cell] of live.entries()) results.set(cellId(cell), { latency: latencies[i], throughput: combineRuns(runs[i]!) })
  return results
}

export interface BurstCell extends BurstResult {
  /** Peak RSS of the process that served the burst, fresh for it (undefined for the fake upstream). */
  peakRssMb?: number
}

/**
 * `s.burst` concurrent streams on each cell. Every proxy is a fresh process made by `fresh`, warmed up with sequential
 * streams, then stopped, so its peak RSS is the burst's. The direct cell uses the running fake upstream.
 */
export async function measureBursts(
  cells: Cell[],
  fresh: (cell: Cell) => Promise<System>,
  s: Settings,
  log: Log,
): Promise<Map<string, BurstCell | { skipped: string }>> {
  const results = new Map<string, BurstCell | { skipped: string }>()
  for (const cell of cells) {
    const proc = cell.system.name === 'direct' ? cell.system : await fresh(cell)
    const target = { system: proc, shape: cell.shape }
    const problem = await probe(target, 'stream')
    if (problem !== undefined) {
      results.set(cellId(cell), { skipped: problem })
      log(`${s.burst} streams: ${label(cell)} left out: ${problem}`)
    } else {
      log(`${s.burst} concurrent streams: ${label(cell)} (warm-up first)`)
      await measureLatency([requestFor(target, 'stream')], s.latencyWarmup * 4, 1)
      const burst = await measureBurst(requestFor(target, 'stream'), s.burst)
      results.set(cellId(cell), { ...burst, ...(proc !== cell.system && { peakRssMb: peakRssMb(proc.child.pid) }) })
    }
    if (proc !== cell.system) await stop(proc.child, 10_000)
  }
  return results
}

/** Now on the clock V8 stamps its profiles with (CLOCK_MONOTONIC on Linux, as process.hrtime), in µs. */
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n)

export interface ProfiledRun {
  file: string
  /** The measured part of the run on the profile's clock (µs): start-up and warm-up fall outside. */
  window: { from: number; to: number }
  requests: number
  /** CPU of the whole process (all threads) per request during the window, from /proc. */
  processCpuMsPerRequest: number
}

/**
 * One scenario again on a fresh gateway started by `start` with `node --cpu-prof`, warmed up first: the throughput
 * run of `kind` requests, or the burst. Returns the profile Node writes at exit and the window of the measured part.
 */
export async function profileScenario(
  scenario: Kind | 'burst',
  shape: Shape,
  start: (nodeArgs: string[]) => Promise<System>,
  s: Settings,
  baseDir: string,
): Promise<ProfiledRun> {
  const dir = mkdtempSync(path.join(baseDir, 'profile-'))
  const system = await start(['--cpu-prof', `--cpu-prof-dir=${dir}`])
  const spec = requestFor({ system, shape }, scenario === 'burst' ? 'stream' : scenario)
  const pid = system.child.pid
  let requests: number
  let cpu: number
  let from: number
  if (scenario === 'burst') {
    await measureLatency([spec], s.latencyWarmup * 4, 1)
    const before = cpuMs(pid)
    from = monotonicUs()
    requests = (await measureBurst(spec, s.burst)).completed
    cpu = cpuMs(pid) - before
  } else {
    await measureThroughput(spec, s.connections, 0, s.warmupSeconds)
    from = monotonicUs()
    const run = await measureThroughput(spec, s.connections, 0, s.duration, pid)
    requests = run.requests
    cpu = (run.cpuMsPerRequest ?? NaN) * requests
  }
  const to = monotonicUs()
  await stop(system.child, 20_000)
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error(`no CPU profile in ${dir} (did the gateway exit cleanly?)`)
  return { file: path.join(dir, file), window: { from, to }, requests, processCpuMsPerRequest: cpu / requests }
}
