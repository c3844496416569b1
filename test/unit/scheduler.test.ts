import { spawnSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { createConsola, type LogObject } from 'consola'
import { describe, expect, it } from 'vitest'
import { createScheduler, everyHours, type JobDefinition, type Scheduler } from '../../core/scheduler.ts'

function recordingLogger() {
  const lines: LogObject[] = []
  const logger = createConsola({ level: 5, reporters: [{ log: (entry) => void lines.push(entry) }] })
  return { logger, lines }
}

function job(name: string, schedule: string | undefined, run: JobDefinition['run'] = async () => 'done'): JobDefinition {
  return { name, description: `the ${name} job`, schedule, run }
}

/** Resolves when `condition` holds, polling; fails after `ms`. */
async function until(condition: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(10)
  }
}

const withScheduler = async (timezone: string, body: (scheduler: Scheduler, lines: LogObject[]) => Promise<void>) => {
  const { logger, lines } = recordingLogger()
  const scheduler = createScheduler({ timezone, logger })
  try {
    await body(scheduler, lines)
  } finally {
    scheduler.stop()
  }
}

describe('everyHours', () => {
  it.each<[number, string | undefined]>([
    [0, undefined],
    [1 / 60, '* * * * *'],
    [0.001, '* * * * *'], // rounded up to one minute
    [0.1, '*/6 * * * *'],
    [0.25, '*/15 * * * *'],
    [0.5, '*/30 * * * *'],
    [1, '0 * * * *'],
    [2, '0 */2 * * *'],
    [3, '0 */3 * * *'],
    [6, '0 */6 * * *'],
    [8, '0 */8 * * *'],
    [12, '0 */12 * * *'],
    [24, '0 0 * * *'],
    // No cron pattern repeats these evenly: a fixed period instead.
    [0.7, '@every 42m'],
    [1.5, '@every 90m'],
    [5, '@every 5h'],
    [7, '@every 7h'],
    [48, '@every 48h'],
    [720, '@every 720h'],
  ])('%s hours → %s', (hours, schedule) => {
    expect(everyHours(hours)).toBe(schedule)
  })

  it.each([-1, 721, Number.NaN, Infinity])('refuses %s', (hours) => {
    expect(() => everyHours(hours)).toThrow(/outside 0 to 720/)
  })

  it('every schedule it makes is one the scheduler accepts', () => {
    const { logger } = recordingLogger()
    const scheduler = createScheduler({ timezone: 'UTC', logger })
    const hours = [0.001, 0.1, 0.7, 1, 1.5, 5, 6, 24, 48, 720]
    scheduler.setJobs(hours.map((h) => job(`every-${h}`, everyHours(h))))
    for (const view of scheduler.list()) expect(view.nextRun).toBeGreaterThan(Date.now())
    scheduler.stop()
  })
})

// Real timers: the tests run side by side, so the file takes as long as its longest test.
describe.concurrent('scheduler', () => {
  it('refuses a time zone the IANA database does not know, naming it', () => {
    const { logger } = recordingLogger()
    expect(() => createScheduler({ timezone: 'Mars/Olympus_Mons', logger })).toThrow(/"Mars\/Olympus_Mons" is not a time zone/)
    expect(() => createScheduler({ timezone: '', logger })).toThrow(/is not a time zone/)
  })

  it('computes the next run in its time zone', async () => {
    await withScheduler('Asia/Kolkata', async (scheduler) => {
      scheduler.setJobs([job('midnight', '0 0 * * *'), job('on-demand', undefined), job('grid', '@every 5h')])
      const [midnight, onDemand, grid] = scheduler.list()
      const next = new Date(midnight!.nextRun!)
      // Midnight in India is 18:30 UTC.
      expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([18, 30])
      expect(midnight).toMatchObject({ schedule: '0 0 * * *', timezone: 'Asia/Kolkata', paused: false, running: false })
      expect(onDemand).toMatchObject({ schedule: null, nextRun: null })
      expect(grid!.nextRun! % (5 * 3_600_000)).toBe(0)
      expect(grid!.nextRun! - Date.now()).toBeLessThanOrEqual(5 * 3_600_000)
    })
  })

  it('refuses a bad schedule or a repeated name and keeps the jobs it had', async () => {
    await withScheduler('UTC', async (scheduler) => {
      scheduler.setJobs([job('a', '* * * * *')])
      expect(() => scheduler.setJobs([job('a', '* * * * *'), job('b', 'every tuesday')])).toThrow(/job b: "every tuesday" is neither a cron pattern/)
      expect(() => scheduler.setJobs([job('a', '61 * * * *')])).toThrow(/minute/)
      expect(() => scheduler.setJobs([job('a', '* * * * * * *')])).toThrow(/5 or 6/)
      expect(() => scheduler.setJobs([job('a', '0 0 30 2 *')])).toThrow(/names no time to come/)
      expect(() => scheduler.setJobs([job('a', '@every 0m')])).toThrow(/neither a cron pattern/)
      expect(() => scheduler.setJobs([job('a', undefined), job('a', undefined)])).toThrow(/two jobs are named "a"/)
      expect(scheduler.list().map((view) => [view.name, view.schedule])).toEqual([['a', '* * * * *']])
    })
  })

  it('runs a job on its schedule and records the run', async () => {
    await withScheduler('UTC', async (scheduler) => {
      let runs = 0
      scheduler.setJobs([
        job('tick', '* * * * * *', async () => {
          runs++
          await sleep(20)
          return `run ${runs}`
        }),
      ])
      const next = scheduler.list()[0]!.nextRun!
      expect(next - Date.now()).toBeLessThanOrEqual(1_000)
      await until(() => scheduler.list()[0]!.lastRun !== undefined)
      const { lastRun } = scheduler.list()[0]!
      expect(lastRun).toMatchObject({ ok: true, summary: 'run 1' })
      expect(lastRun!.durationMs).toBeGreaterThanOrEqual(15)
      expect(lastRun!.at).toBeGreaterThanOrEqual(next - 50)
      await until(() => runs >= 2)
    })
  })

  it('runs an @every schedule on its grid', async () => {
    await withScheduler('UTC', async (scheduler) => {
      const starts: number[] = []
      scheduler.setJobs([job('grid', '@every 1s', async () => void starts.push(Date.now()))])
      await until(() => starts.length >= 2)
      for (const at of starts) expect(at % 1_000).toBeLessThan(500) // on the second, give or take a busy machine
      expect(starts[1]! - starts[0]!).toBeGreaterThan(800)
    })
  })

  it('a run asked for while one is going joins it; a scheduled time that finds it running does not start another', async () => {
    await withScheduler('UTC', async (scheduler) => {
      let running = 0
      let most = 0
      let runs = 0
      scheduler.setJobs([
        job('slow', '* * * * * *', async () => {
          runs++
          most = Math.max(most, ++running)
          await sleep(1_300)
          running--
          return 'slow done'
        }),
      ])
      scheduler.pause('slow')
      const [first, second] = await Promise.all([scheduler.run('slow'), (async () => (await sleep(50), scheduler.run('slow')))()])
      expect(runs).toBe(1)
      expect(first).toEqual(second)
      expect(first.lastRun).toMatchObject({ ok: true, summary: 'slow done' })
      // On its schedule now: every second, each run 1.3 s long; the ticks during a run join it.
      scheduler.resume('slow')
      await until(() => runs >= 2 && scheduler.list()[0]!.running, 3_000)
      expect(scheduler.list()[0]!.running).toBe(true)
      await sleep(1_500)
      expect(most).toBe(1)
    })
  })

  it('a job that throws is logged once and recorded, and runs again at its next time', async () => {
    await withScheduler('UTC', async (scheduler, lines) => {
      let runs = 0
      scheduler.setJobs([
        job('flaky', '* * * * * *', async () => {
          runs++
          if (runs === 1) throw new Error('database is down')
          return 'fine again'
        }),
      ])
      await until(() => scheduler.list()[0]!.lastRun !== undefined)
      expect(scheduler.list()[0]!.lastRun).toMatchObject({ ok: false, error: 'database is down' })
      expect(scheduler.list()[0]!.lastRun).not.toHaveProperty('summary')
      const warnings = lines.filter((line) => line.type === 'warn')
      expect(warnings).toHaveLength(1)
      expect(String(warnings[0]!.args[0])).toMatch(/^job flaky failed after \d+ ms: database is down$/)
      await until(() => runs >= 2 && scheduler.list()[0]!.lastRun?.ok === true)
      expect(scheduler.list()[0]!.lastRun).toMatchObject({ ok: true, summary: 'fine again' })
    })
  })

  it('run now records a thrown non-Error too, and resolves rather than rejects', async () => {
    await withScheduler('UTC', async (scheduler) => {
      scheduler.setJobs([job('odd', undefined, () => Promise.reject('plain string'))])
      expect((await scheduler.run('odd')).lastRun).toMatchObject({ ok: false, error: 'plain string' })
      await expect(scheduler.run('nope')).rejects.toMatchObject({ status: 404, message: 'No job is named "nope".' })
      expect(() => scheduler.pause('nope')).toThrow(/No job is named/)
    })
  })

  it('pause stops the schedule and resume brings it back; a reload keeps pause state and last runs by name', async () => {
    await withScheduler('Europe/Berlin', async (scheduler) => {
      let runs = 0
      scheduler.setJobs([
        job('counted', '* * * * * *', async () => {
          runs++
          return `run ${runs}`
        }),
        job('other', '0 3 * * *'),
      ])
      expect(scheduler.pause('counted')).toMatchObject({ paused: true, nextRun: null })
      await sleep(1_200)
      expect(runs).toBe(0)
      await scheduler.run('counted') // a paused job still runs when asked
      expect(runs).toBe(1)
      scheduler.setJobs([job('counted', '*/2 * * * * *', async () => `new definition ${++runs}`), job('added', undefined)])
      const [counted, added] = scheduler.list()
      expect(counted).toMatchObject({ name: 'counted', schedule: '*/2 * * * * *', paused: true, nextRun: null, lastRun: { ok: true, summary: 'run 1' } })
      expect(added).toMatchObject({ name: 'added', paused: false })
      expect(scheduler.list().map((view) => view.name)).toEqual(['counted', 'added'])
      expect(scheduler.resume('counted').nextRun).toBeGreaterThan(Date.now())
      await until(() => runs >= 2, 3_000)
      expect(scheduler.list()[0]!.lastRun?.summary).toBe('new definition 2')
    })
  })

  it('stop disarms every schedule and aborts the runs going on', async () => {
    const { logger } = recordingLogger()
    const scheduler = createScheduler({ timezone: 'UTC', logger })
    let runs = 0
    let aborted: unknown
    scheduler.setJobs([
      job('long', undefined, (signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(String((aborted = signal.reason)))))),
      job('tick', '* * * * * *', async () => void runs++),
    ])
    const long = scheduler.run('long')
    scheduler.stop()
    expect((await long).lastRun).toMatchObject({ ok: true })
    expect(String(aborted)).toContain('the scheduler stopped')
    expect(scheduler.list().map((view) => view.nextRun)).toEqual([null, null])
    await sleep(1_200)
    expect(runs).toBe(0)
    await expect(scheduler.run('tick')).rejects.toMatchObject({ status: 503 })
  })

  it('its timers do not keep the process alive', () => {
    const script = `
      import { createConsola } from 'consola'
      import { createScheduler } from './core/scheduler.ts'
      const scheduler = createScheduler({ timezone: 'UTC', logger: createConsola() })
      scheduler.setJobs([
        { name: 'cron', description: '', schedule: '* * * * * *', run: async () => {} },
        { name: 'grid', description: '', schedule: '@every 720h', run: async () => {} },
      ])
    `
    const started = Date.now()
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      encoding: 'utf8',
      timeout: 15_000,
    })
    expect(child.stderr).toBe('')
    expect(child.status).toBe(0)
    expect(Date.now() - started).toBeLessThan(10_000)
  })
})
