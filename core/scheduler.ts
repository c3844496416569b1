import type { ConsolaInstance } from 'consola'
import { GatewayError } from './errors.ts'
import { armSchedule, checkSchedule, type ScheduleTimer } from './internal/schedule-timer.ts'
import type { SharedState } from './shared/index.ts'
import type { JobView } from './views.ts'

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
  /** Runs on every instance (housekeeping of this process's memory); other jobs run on one instance per scheduled time. */
  everyInstance?: boolean
}

export type { JobView } from './views.ts'

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
  /** Disarms every schedule, aborts the runs going on, and gives up its leases so that another instance may run them at once. */
  stop(): Promise<void>
}

interface Job {
  definition: JobDefinition
  paused: boolean
  timer?: ScheduleTimer
  /** The scheduled time the timer fires for next: the same on every instance, so it names the run they compete for. */
  due?: number
  /** Ends this instance's hold on the job while it runs it. */
  release?: () => Promise<void>
  running?: Promise<void>
  abort?: AbortController
  lastRun?: JobView['lastRun']
}

/** How long a scheduled time stays claimed: far longer than instances' clocks and timers differ. */
const CLAIM_MS = 60_000
/** A run's lease is renewed while its instance lives; one that died holding it blocks the others this long at most. */
const RUN_LEASE_MS = 60_000
const CHANNEL = 'jobs'

export interface SchedulerOptions {
  timezone: string
  logger: ConsolaInstance
  /**
   * With instances sharing state, each scheduled time of a job runs on one of them (the first to claim it), never two
   * runs of a job at once across them (a lease held while it runs), and every instance shows the last run.
   */
  shared?: Pick<SharedState, 'leases' | 'bus'>
}

/**
 * Runs the gateway's background jobs on their schedules in one IANA time zone (croner). A job never runs twice at
 * once: a scheduled time or a "run now" that finds it running joins that run. A job that throws is logged and
 * recorded, and runs again at its next time.
 */
export function createScheduler({ timezone, logger, shared }: SchedulerOptions): Scheduler {
  checkTimezone(timezone)
  let jobs = new Map<string, Job>()
  let stopped = false

  /** Leases that make a job run once across instances; none for a job that runs on each. */
  const leasesFor = (job: Job) => (job.definition.everyInstance ? undefined : shared?.leases)
  /** Another instance ran it (or is running it): said unless what that instance reported is already here. */
  const ranElsewhere = (job: Job, at: number) => {
    if ((job.lastRun?.at ?? -Infinity) >= at) return
    job.lastRun = { at, durationMs: 0, ok: true, summary: 'ran on another instance', elsewhere: true }
    logger.debug(`job ${job.definition.name}: another instance runs it`)
  }
  const unsubscribe = shared?.bus.subscribe(CHANNEL, (message) => {
    const { name, lastRun } = (message ?? {}) as { name?: unknown; lastRun?: unknown }
    const job = typeof name === 'string' ? jobs.get(name) : undefined
    const run = reportedRun(lastRun)
    if (job && run && !job.running && (job.lastRun?.at ?? -Infinity) <= run.at) job.lastRun = { ...run, elsewhere: true }
  })

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

  /** `manual`: asked for now, so refused (409) rather than noted when another instance is running it. */
  const start = (job: Job, manual: boolean): Promise<void> => {
    if (job.running) return job.running
    const { name, run } = job.definition
    const abort = new AbortController()
    const at = Date.now()
    const started = performance.now()
    const ended = (ok: boolean, detail: { summary?: string; error?: string }) => {
      job.lastRun = { at, durationMs: Math.round(performance.now() - started), ok, ...detail }
      shared?.bus.publish(CHANNEL, { name, lastRun: job.lastRun })
    }
    job.abort = abort
    job.running = (async () => {
      const leases = leasesFor(job)
      // Without leases the run starts at once (no await before it), as a stop right after a start expects.
      const release = leases ? await leases.acquire(`job:${name}`, RUN_LEASE_MS, { keep: true }) : undefined
      if (leases && !release) {
        ranElsewhere(job, at)
        if (manual) throw new GatewayError(409, `Job ${name} is running on another instance.`)
        return
      }
      job.release = release
      try {
        abort.signal.throwIfAborted() // stopped while the lease was being taken
        const summary = await run(abort.signal)
        ended(true, summary ? { summary } : {})
        logger.debug(`job ${name} done in ${job.lastRun!.durationMs} ms${summary ? `: ${summary}` : ''}`)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        ended(false, { error: message })
        logger.warn(`job ${name} failed after ${job.lastRun!.durationMs} ms: ${message}`)
      } finally {
        job.release = undefined
        await release?.()
      }
    })().finally(() => {
      job.running = undefined
      job.abort = undefined
    })
    return job.running
  }

  /** A scheduled time: the instance that claims it first runs the job; the others note that it ran elsewhere. */
  const fire = async (job: Job) => {
    const due = job.due ?? Date.now()
    job.due = job.timer?.nextRun() ?? undefined
    if (job.running) return
    const leases = leasesFor(job)
    if (leases && !(await leases.acquire(`job:${job.definition.name}@${due}`, CLAIM_MS))) return ranElsewhere(job, due)
    await start(job, false).catch(() => {}) // refused: another instance runs it, and that is noted
  }

  const arm = (job: Job) => {
    job.timer?.stop()
    job.timer = undefined
    const schedule = job.definition.schedule
    if (schedule === undefined || job.paused || stopped) return
    job.timer = armSchedule(schedule, timezone, () => void fire(job))
    job.due = job.timer.nextRun() ?? undefined
  }

  return {
    list: () => [...jobs.values()].map(view),
    async run(name) {
      const job = jobNamed(name)
      if (stopped) throw new GatewayError(503, 'The scheduler has stopped: the gateway is shutting down.')
      await start(job, true)
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
    async stop() {
      stopped = true
      unsubscribe?.()
      for (const job of jobs.values()) {
        job.timer?.stop()
        job.timer = undefined
        job.abort?.abort(new Error('the scheduler stopped'))
      }
      await Promise.all([...jobs.values()].map((job) => job.release?.()))
    },
  }
}

/** A run another instance reported, checked (it came over the bus). */
function reportedRun(value: unknown): NonNullable<JobView['lastRun']> | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { at, durationMs, ok, summary, error } = value as Record<string, unknown>
  if (typeof at !== 'number' || typeof durationMs !== 'number' || typeof ok !== 'boolean') return undefined
  return { at, durationMs, ok, ...(typeof summary === 'string' ? { summary } : {}), ...(typeof error === 'string' ? { error } : {}) }
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
