import { Cron } from 'croner'

/** An armed schedule: when it fires next, and how to disarm it. */
export interface ScheduleTimer {
  /** Epoch ms, or null when it will not fire again. */
  nextRun(): number | null
  stop(): void
}

const EVERY = /^@every ([1-9]\d{0,6})(s|m|h)$/
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 }

/**
 * Arms `schedule` in `timezone`, calling `fire` at each time it names. A schedule is a cron pattern of 5 or 6 fields
 * (seconds first when 6), or `@every <n>s|m|h`: a fixed period counted from the Unix epoch (1970-01-01T00:00Z), so
 * the runs stay on one grid across restarts and the time zone plays no part. Timers never keep the process alive.
 * Throws an Error naming the schedule when it cannot be read.
 */
export function armSchedule(schedule: string, timezone: string, fire: () => void): ScheduleTimer {
  checkSchedule(schedule, timezone)
  const every = EVERY.exec(schedule)
  if (every) return armEvery(Number(every[1]) * UNIT_MS[every[2] as keyof typeof UNIT_MS], fire)
  const cron = new Cron(schedule, { ...cronOptions(timezone), unref: true }, () => fire())
  return { nextRun: () => cron.nextRun()?.getTime() ?? null, stop: () => cron.stop() }
}

/** Throws an Error naming the schedule when it cannot be read; arms nothing. */
export function checkSchedule(schedule: string, timezone: string): void {
  if (EVERY.test(schedule)) return
  let next: Date | null
  try {
    next = new Cron(schedule, cronOptions(timezone)).nextRun()
  } catch (error) {
    throw new Error(`"${schedule}" is neither a cron pattern of 5 or 6 fields nor "@every <n>s|m|h" (${(error as Error).message})`, { cause: error })
  }
  if (next === null) throw new Error(`"${schedule}" names no time to come (such as 30 February)`)
}

const cronOptions = (timezone: string) => ({ timezone, mode: '5-or-6-parts' as const })

/** A one-shot croner job per period, re-armed as it fires: croner keeps long waits accurate and unref'd. */
function armEvery(periodMs: number, fire: () => void): ScheduleTimer {
  let next = 0
  let cron: Cron | undefined
  const arm = () => {
    next = (Math.floor(Date.now() / periodMs) + 1) * periodMs
    cron = new Cron(new Date(next), { unref: true }, () => {
      arm()
      fire()
    })
  }
  arm()
  return {
    nextRun: () => next,
    stop: () => {
      cron?.stop()
      cron = undefined
    },
  }
}
