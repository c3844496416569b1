// Measurement helpers: sequential latency (undici), throughput (autocannon), CPU and peak RSS from /proc.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Pool } from 'undici'

export interface RequestSpec {
  origin: string
  path: string
  headers: Record<string, string>
  body: string
}

// ---- latency at concurrency 1 ----------------------------------------------------------------

export interface LatencyResult {
  p50: number
  p99: number
  /** First body byte. */
  firstP50: number
  firstP99: number
  /** Non-200 answers and transport errors (warm-up included), and a few of them described. */
  failures: number
  failureSamples: string[]
}

/**
 * `warmup` then `count` rounds; each round sends one request to every spec in turn, so there is never more than
 * one request in flight and slow phases of a noisy machine hit all targets alike. One keep-alive connection per
 * spec; every body is read whole. Results in the order of `specs`.
 */
export async function measureLatency(specs: RequestSpec[], warmup: number, count: number): Promise<LatencyResult[]> {
  const runs = specs.map((spec) => ({
    spec,
    pool: new Pool(spec.origin, { connections: 1, pipelining: 1 }),
    total: [] as number[],
    first: [] as number[],
    failures: 0,
    failureSamples: [] as string[],
  }))
  try {
    for (let i = 0; i < warmup + count; i++) {
      for (const run of runs) {
        const sample = await timeOne(run.pool, run.spec)
        if (typeof sample === 'string') {
          run.failures++
          if (run.failureSamples.length < 3) run.failureSamples.push(sample)
        } else if (i >= warmup) {
          run.total.push(sample.total)
          run.first.push(sample.first)
        }
      }
    }
  } finally {
    await Promise.all(runs.map((run) => run.pool.close()))
  }
  return runs.map((run) => ({
    p50: percentile(run.total, 0.5),
    p99: percentile(run.total, 0.99),
    firstP50: percentile(run.first, 0.5),
    firstP99: percentile(run.first, 0.99),
    failures: run.failures,
    failureSamples: run.failureSamples,
  }))
}

/** One request: total and first-body-byte times in ms, or a description of the failure. */
async function timeOne(pool: Pool, spec: RequestSpec): Promise<{ total: number; first: number } | string> {
  const t0 = performance.now()
  let tFirst = 0
  let status = 0
  let text = ''
  try {
    const res = await pool.request({ path: spec.path, method: 'POST', headers: spec.headers, body: spec.body })
    status = res.statusCode
    for await (const chunk of res.body) {
      if (tFirst === 0) tFirst = performance.now()
      if (status !== 200 && text.length < 300) text += String(chunk)
    }
  } catch (error) {
    text = String(error)
  }
  const t1 = performance.now()
  if (status !== 200) return `HTTP ${status || '-'} ${text.slice(0, 300).replace(/\s+/g, ' ')}`
  return { total: t1 - t0, first: (tFirst || t1) - t0 }
}

/** Nearest-rank percentile; NaN for no samples. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number
}

// ---- throughput ------------------------------------------------------------------------------

interface AutocannonResult {
  duration: number
  errors: number
  timeouts: number
  non2xx: number
  resets: number
  requests: { total: number }
  statusCodeStats: Record<string, { count: number }>
}
interface AutocannonRun extends PromiseLike<AutocannonResult> {
  on(event: 'reqError', listener: (error: Error) => void): void
}
type Autocannon = (options: {
  url: string
  method: 'POST'
  headers: Record<string, string>
  body: string
  connections: number
  duration: number
}) => AutocannonRun
// autocannon ships no types; the few fields used are declared above.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

export interface ThroughputResult {
  rps: number
  requests: number
  warmupRequests: number
  /** Transport errors + timeouts + non-2xx answers. */
  problems: number
  detail: string
  /** CPU time of `cpuPid` during the measured run, per completed request (ms); undefined without a pid. */
  cpuMsPerRequest?: number
}

/** Warm-up run (none for 0 s), then a measured run; CPU of `cpuPid` (the proxy under test) is sampled around the latter. */
export async function measureThroughput(
  spec: RequestSpec,
  connections: number,
  warmupSeconds: number,
  seconds: number,
  cpuPid?: number,
): Promise<ThroughputResult> {
  const options = { url: spec.origin + spec.path, method: 'POST' as const, headers: spec.headers, body: spec.body, connections }
  const warmupRequests = warmupSeconds > 0 ? (await autocannon({ ...options, duration: warmupSeconds })).requests.total : 0
  const errorSamples = new Set<string>()
  const cpuBefore = cpuPid === undefined ? 0 : cpuMs(cpuPid)
  const run = autocannon({ ...options, duration: seconds })
  run.on('reqError', (error) => {
    if (errorSamples.size < 3) errorSamples.add(error.message)
  })
  const result = await run
  const cpuAfter = cpuPid === undefined ? 0 : cpuMs(cpuPid)
  const requests = result.requests.total
  const problems = result.errors + result.non2xx // autocannon counts timeouts in errors too
  const codes = Object.entries(result.statusCodeStats)
    .map(([code, { count }]) => `${code}×${count}`)
    .join(' ')
  const detail =
    `errors ${result.errors} (timeouts ${result.timeouts}), non-2xx ${result.non2xx}, resets ${result.resets}; status ${codes}` +
    (errorSamples.size ? `; e.g. ${[...errorSamples].join(' | ')}` : '')
  return {
    rps: requests / result.duration,
    requests,
    warmupRequests,
    problems,
    detail,
    ...(cpuPid !== undefined && { cpuMsPerRequest: requests > 0 ? (cpuAfter - cpuBefore) / requests : NaN }),
  }
}

/** Repeated measured runs of one target: the median rate, and how far apart the runs were. */
export interface RepeatedThroughput {
  rps: number
  /** Rate of each run, in order. */
  runs: number[]
  /** Fastest run over slowest, minus one (0.25 = the runs disagree by 25%). */
  spread: number
  cpuMsPerRequest?: number
  requests: number
  warmupRequests: number
  problems: number
  detail: string
}

export function combineRuns(runs: ThroughputResult[]): RepeatedThroughput {
  const rates = runs.map((r) => r.rps)
  const requests = runs.reduce((n, r) => n + r.requests, 0)
  const withCpu = runs.filter((r) => r.cpuMsPerRequest !== undefined)
  const cpuMs = withCpu.reduce((ms, r) => ms + (r.cpuMsPerRequest as number) * r.requests, 0)
  return {
    rps: percentile(rates, 0.5),
    runs: rates,
    spread: Math.max(...rates) / Math.min(...rates) - 1,
    ...(withCpu.length > 0 && { cpuMsPerRequest: requests > 0 ? cpuMs / requests : NaN }),
    requests,
    warmupRequests: runs.reduce((n, r) => n + r.warmupRequests, 0),
    problems: runs.reduce((n, r) => n + r.problems, 0),
    detail: runs
      .filter((r) => r.problems > 0)
      .map((r) => r.detail)
      .join(' || '),
  }
}

// ---- /proc -----------------------------------------------------------------------------------

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100

/** utime + stime of a process (all its threads), in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK
}

/** Peak resident set size (VmHWM) in MB. */
export function peakRssMb(pid: number): number {
  return statusMb(pid, 'VmHWM')
}

/** Resident set size now (VmRSS) in MB. */
export function rssMb(pid: number): number {
  return statusMb(pid, 'VmRSS')
}

function statusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm'))
  return match ? Number(match[1]) / 1024 : NaN
}
