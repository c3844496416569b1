// `--soak`: memory over a long run (DESIGN.md "memory flat over a long run"). Each target gets a fixed request rate,
// open loop (a slow answer does not slow the sender), cycling through its request specs, while its RSS is sampled.
// The verdict compares the last third of the run with the middle third; the first third is the warm-up (JIT, pools,
// heap growing to its working size).
import { Pool } from 'undici'
import { percentile, rssMb, type RequestSpec } from './measure.ts'

export interface SoakSettings {
  minutes: number
  /** Requests per second sent to each target. */
  rps: number
  sampleSeconds: number
  /** Largest growth of the last third's median RSS over the middle third's still called flat (0.05 = 5%). */
  tolerance: number
}

export interface SoakTarget {
  label: string
  pid: number
  specs: RequestSpec[]
}

export interface SoakResult {
  label: string
  /** Seconds since the start, RSS in MB. */
  samples: { t: number; mb: number }[]
  sent: number
  ok: number
  failed: number
  /** Requests not sent because MAX_IN_FLIGHT were already waiting (the target fell behind the rate). */
  behind: number
  p50: number
  p99: number
  failureSamples: string[]
  middleMb: number
  lastMb: number
  growth: number
  flat: boolean
}

const MAX_IN_FLIGHT = 512
const TICK_MS = 10

export async function runSoak(targets: SoakTarget[], s: SoakSettings, log: (m: string) => void): Promise<SoakResult[]> {
  const seconds = s.minutes * 60
  const runs = targets.map((target) => ({
    target,
    pool: new Pool(target.specs[0]!.origin, { connections: 64 }),
    samples: [] as { t: number; mb: number }[],
    times: [] as number[],
    sent: 0,
    ok: 0,
    failed: 0,
    behind: 0,
    inFlight: 0,
    failureSamples: [] as string[],
  }))
  type Run = (typeof runs)[number]
  const send = (run: Run, spec: RequestSpec): void => {
    run.inFlight++
    const started = performance.now()
    run.pool
      .request({ path: spec.path, method: 'POST', headers: spec.headers, body: spec.body })
      .then(async (res) => {
        const text = await res.body.text()
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode} ${text.slice(0, 200)}`)
        run.ok++
        run.times.push(performance.now() - started)
      })
      .catch((error: unknown) => {
        run.failed++
        if (run.failureSamples.length < 3) run.failureSamples.push(String(error instanceof Error ? error.message : error))
      })
      .finally(() => run.inFlight--)
  }

  const t0 = performance.now()
  const sample = (): void => {
    const t = (performance.now() - t0) / 1000
    for (const run of runs) run.samples.push({ t, mb: rssMb(run.target.pid) })
  }
  sample()
  const sampler = setInterval(sample, s.sampleSeconds * 1000)
  const progress = setInterval(() => {
    const minute = Math.round((performance.now() - t0) / 60_000)
    log(`soak: minute ${minute}/${s.minutes}; ${runs.map((r) => `${r.target.label} ${Math.round(r.samples.at(-1)?.mb ?? NaN)} MB`).join(', ')}`)
  }, 60_000)
  await new Promise<void>((resolve) => {
    const ticker = setInterval(() => {
      const elapsed = performance.now() - t0
      const due = Math.floor((Math.min(elapsed, seconds * 1000) * s.rps) / 1000)
      for (const run of runs) {
        for (; run.sent < due; run.sent++) {
          if (run.inFlight >= MAX_IN_FLIGHT) run.behind++
          else send(run, run.target.specs[run.sent % run.target.specs.length]!)
        }
      }
      if (elapsed >= seconds * 1000) {
        clearInterval(ticker)
        resolve()
      }
    }, TICK_MS)
  })
  sample()
  clearInterval(sampler)
  clearInterval(progress)
  const drainBy = Date.now() + 30_000
  while (runs.some((r) => r.inFlight > 0) && Date.now() < drainBy) await new Promise((r) => setTimeout(r, 50))
  await Promise.all(runs.map((r) => r.pool.close()))

  return runs.map((run) => {
    const third = (from: number, to: number) =>
      percentile(
        run.samples.filter((x) => x.t >= from * seconds && x.t < to * seconds).map((x) => x.mb),
        0.5,
      )
    const middleMb = third(1 / 3, 2 / 3)
    const lastMb = third(2 / 3, Infinity)
    const growth = lastMb / middleMb - 1
    return {
      label: run.target.label,
      samples: run.samples,
      sent: run.sent,
      ok: run.ok,
      failed: run.failed,
      behind: run.behind,
      p50: percentile(run.times, 0.5),
      p99: percentile(run.times, 0.99),
      failureSamples: run.failureSamples,
      middleMb,
      lastMb,
      growth,
      flat: growth <= s.tolerance,
    }
  })
}
