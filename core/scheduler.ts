import type { ConsolaInstance } from 'consola'
import { GatewayError } from './errors.ts'
import { armSchedule, checkSchedule, type ScheduleTimer } from './internal/schedule-timer.ts'

export interface JobDefinition {
  /** 'key-recheck', 'log-retention', 'pool-sweep', 'session-sweep' */
  name: string
  description: string
  /**
   * Cron pattern (5 or 6 fields, seconds first when 6) in the scheduler's time zone, or `@every <n>s|m|h` (a fixed
   * period on a grid counted from the Unix epoch; see `everyHours`); undefined: only on demand.
   */
  schedule: string | undefined
  /** Returns a one-line summary of what it did ("3 keys checked, 1 back in rotation"). */
  run(signal: AbortSignal): Promise<string | void>
}

export interface JobView {
  name: string
  description: string
  schedule: string | null
  timezone: string
  paused: boolean
  running: boolean
  lastRun?: { at: number; durationMs: number; ok: boolean; summary?: string; error?: string }
  /** Epoch ms; null when paused or on demand only. */
  nextRun: number | null
}

export interface JobControl {
  list(): JobView[]
  /**
   * Runs it now, paused or not (a run already going is joined, never doubled); resolves when it ends, with the
   * outcome in `lastRun` (a failed run resolves too). Unknown name: throws a 404 GatewayError.
   */
  run(name: string): Promise<JobView>
  /** Stops its schedule (a run going on finishes); `run` still works. */
  pause(name: string): JobView
  resume(name: string): JobView
}

export interface Scheduler extends JobControl {
  /** Sets the whole job list (a reload); pause state and last runs carry over by name. Throws, changing nothing, on a bad schedule. */
  setJobs(jobs: readonly JobDefinition[]): void
  /** Disarms every schedule and aborts the runs going on. */
  stop(): void
}

interface Job {
  definition: JobDefinition
  paused: boolean
  timer?: ScheduleTimer
  running?: Promise<void>
  abort?: AbortController
  lastRun?: JobView['lastRun']
}

/**
 * Runs the gateway's background jobs on their schedules in one IANA time zone (croner). A job never runs twice at
 * once: a scheduled time or a "run now" that finds it running joins that run. A job that throws is logged and
 * recorded, and runs again at its next time.
 */
export function createScheduler({ timezone, logger }: { timezone: string; logger: ConsolaInstance }): Scheduler {
  checkTimezone(timezone)
  let jobs = new Map<string, Job>()
  let stopped = false

  const jobNamed = (name: string): Job => {
    const job = jobs.get(name)
    if (!job) throw new GatewayError(404, `No job is named "${name}".`)
    return job
  }

  const view = ({ definition, paused, timer, running, lastRun }: Job): JobView => ({
    name: definition.name,
    description: definition.description,
    schedule: definition.schedule ?? null,
    timezone,
    paused,
    running: running !== undefined,
    ...(lastRun ? { lastRun } : {}),
    nextRun: paused ? null : (timer?.nextRun() ?? null),
  })

  const start = (job: Job): Promise<void> => {
    if (job.running) return job.running
    const { name, run } = job.definition
    const abort = new AbortController()
    const at = Date.now()
    const started = performance.now()
    const ended = (ok: boolean, detail: { summary?: string; error?: string }) => {
      job.lastRun = { at, durationMs: Math.round(performance.now() - started), ok, ...detail }
    }
    job.abort = abort
    job.running = (async () => {
      try {
        const summary = await run(abort.signal)
        ended(true, summary ? { summary } : {})
        logger.debug(`job ${name} done in ${job.lastRun!.durationMs} ms${summary ? `: ${summary}` : ''}`)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        ended(false, { error: message })
        logger.warn(`job ${name} failed after ${job.lastRun!.durationMs} ms: ${message}`)
      } finally {
        job.running = undefined
        job.abort = undefined
      }
    })()
    return job.running
  }

  const arm = (job: Job) => {
    job.timer?.stop()
    job.timer = undefined
    const schedule = job.definition.schedule
    if (schedule !== undefined && !job.paused && !stopped) job.timer = armSchedule(schedule, timezone, () => void start(job))
  }

  return {
    list: () => [...jobs.values()].map(view),
    async run(name) {
      const job = jobNamed(name)
      if (stopped) throw new GatewayError(503, 'The scheduler has stopped: the gateway is shutting down.')
      await start(job)
      return view(job)
    },
    pause(name) {
      const job = jobNamed(name)
      job.paused = true
      arm(job)
      return view(job)
    },
    resume(name) {
      const job = jobNamed(name)
      job.paused = false
      if (!job.timer) arm(job)
      return view(job)
    },
    setJobs(definitions) {
      checkDefinitions(definitions, timezone)
      const next = new Map<string, Job>()
      for (const definition of definitions) {
        const job = jobs.get(definition.name) ?? { definition, paused: false }
        job.definition = definition
        next.set(definition.name, job)
      }
      for (const [name, job] of jobs) {
        if (next.has(name)) continue
        job.timer?.stop()
        job.abort?.abort(new Error(`job ${name} was removed`))
      }
      jobs = next
      for (const job of jobs.values()) arm(job)
    },
    stop() {
      stopped = true
      for (const job of jobs.values()) {
        job.timer?.stop()
        job.timer = undefined
        job.abort?.abort(new Error('the scheduler stopped'))
      }
    },
  }
}

/** Throws an Error naming the zone when the runtime's time zone database does not know it. */
function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone }).format(0)
  } catch {
    throw new Error(`"${timezone}" is not a time zone of the IANA database (such as UTC, Europe/Berlin or Asia/Shanghai)`)
  }
}

/** Every name once, every schedule readable: checked before anything changes, so a bad list leaves the old one running. */
function checkDefinitions(definitions: readonly JobDefinition[], timezone: string): void {
  const names = new Set<string>()
  for (const { name, schedule } of definitions) {
    if (names.has(name)) throw new Error(`two jobs are named "${name}"`)
    names.add(name)
    if (schedule === undefined) continue
    try {
      checkSchedule(schedule, timezone)
    } catch (error) {
      throw new Error(`job ${name}: ${(error as Error).message}`, { cause: error })
    }
  }
}

/**
 * CHECK_INTERVAL_HOURS (0 to 720, fractions allowed) as a schedule; undefined for 0 (on demand only). The interval is
 * rounded to whole minutes (at least one). Where it divides an hour or a day evenly it is a cron pattern on the
 * clock of the time zone: 0.5 → '*\/30 * * * *', 1 → '0 * * * *', 6 → '0 *\/6 * * *' (00:00, 06:00, ...), 24 →
 * '0 0 * * *'. Any other interval has no honest cron pattern ('0 *\/5 * * *' runs at 20:00 and again at 00:00, four
 * hours later; '0 0 *\/2 * *' runs on the 31st and again on the 1st), so it becomes '@every <n>h' or '@every <n>m':
 * exactly that period, on a grid counted from the Unix epoch in UTC, the same across restarts.
 */
export function everyHours(hours: number): string | undefined {
  if (!Number.isFinite(hours) || hours < 0 || hours > 720) throw new RangeError(`an interval of ${hours} hours is outside 0 to 720`)
  if (hours === 0) return undefined
  const minutes = Math.max(1, Math.round(hours * 60))
  if (minutes < 60 && 60 % minutes === 0) return minutes === 1 ? '* * * * *' : `*/${minutes} * * * *`
  if (minutes % 60 !== 0) return `@every ${minutes}m`
  const whole = minutes / 60
  if (24 % whole === 0) return whole === 1 ? '0 * * * *' : whole === 24 ? '0 0 * * *' : `0 */${whole} * * *`
  return `@every ${whole}h`
}
