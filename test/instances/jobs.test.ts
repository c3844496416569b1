// Scheduled jobs across instances (core/scheduler.ts with leases in a real Redis): each scheduled time runs on one
// instance, never two runs at once, and every instance shows the last run.
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { createScheduler, type JobDefinition, type Scheduler } from '../../core/scheduler.ts'
import { createSharedState, type SharedState } from '../../core/shared/index.ts'
import { clearPrefix, freshPrefix, recordingLogger, REDIS_URL, until } from './redis.ts'

const prefix = freshPrefix()
const states: SharedState[] = []
const schedulers: Scheduler[] = []

/** An instance's scheduler with the given jobs, on its own connections to Redis. */
async function instance(jobs: JobDefinition[]): Promise<Scheduler> {
  const shared = await createSharedState({ redisUrl: REDIS_URL, prefix, logger: recordingLogger().logger })
  const scheduler = createScheduler({ timezone: 'UTC', logger: recordingLogger().logger, shared })
  scheduler.setJobs(jobs)
  states.push(shared)
  schedulers.push(scheduler)
  return scheduler
}

afterAll(async () => {
  await Promise.all(schedulers.map((scheduler) => scheduler.stop()))
  await Promise.all(states.map((state) => state.close()))
  await clearPrefix(prefix)
})

describe('jobs on two instances', () => {
  it('each scheduled time runs once across both; the other shows what the one that ran it reported', async () => {
    const runs: Array<{ on: string; second: number }> = []
    const tick = (on: string): JobDefinition => ({
      name: 'tick',
      description: 'records which instance ran it',
      schedule: '@every 1s',
      run: async () => {
        runs.push({ on, second: Math.round(Date.now() / 1000) })
        return `ran on ${on}`
      },
    })
    const [a, b] = await Promise.all([instance([tick('a')]), instance([tick('b')])])
    await until(() => runs.length >= 3, 4500, 'three scheduled runs')
    await sleep(300) // a second run of the same time, if there were one, would have come by now
    const seconds = runs.map((run) => run.second)
    expect(new Set(seconds).size).toBe(seconds.length)
    const last = runs.at(-1)!
    const idle = last.on === 'a' ? b : a
    await until(() => idle.list()[0]!.lastRun?.summary === `ran on ${last.on}`, 1000, 'the report of the run')
    expect(idle.list()[0]!.lastRun).toMatchObject({ ok: true, elsewhere: true })
    expect((last.on === 'a' ? a : b).list()[0]!.lastRun).not.toHaveProperty('elsewhere')
    for (const scheduler of [a, b]) scheduler.pause('tick')
  })

  it('a job asked for while another instance runs it is refused; stopping that instance frees it at once', async () => {
    let started = 0
    const slow: JobDefinition = {
      name: 'slow',
      description: 'runs until aborted',
      schedule: undefined,
      run: (signal) => {
        started++
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
      },
    }
    const [a, b] = await Promise.all([instance([slow]), instance([slow])])
    const running = a.run('slow')
    await until(() => started === 1)
    await expect(b.run('slow')).rejects.toMatchObject({ status: 409, message: 'Job slow is running on another instance.' })
    await a.stop()
    expect(await running).toMatchObject({ lastRun: { ok: false, error: 'the scheduler stopped' } })
    const quick: JobDefinition = { ...slow, run: async () => 'done' }
    b.setJobs([quick])
    expect(await b.run('slow')).toMatchObject({ lastRun: { ok: true, summary: 'done' } })
    expect(started).toBe(1)
  })

  it('a job for each instance’s own memory runs on both', async () => {
    const ran = new Set<string>()
    const sweep = (on: string): JobDefinition => ({
      name: 'sweep',
      description: 'this process’s housekeeping',
      schedule: '@every 1s',
      everyInstance: true,
      run: async () => void ran.add(on),
    })
    const schedulersHere = await Promise.all([instance([sweep('a')]), instance([sweep('b')])])
    await until(() => ran.size === 2, 2500, 'a run on each')
    for (const scheduler of schedulersHere) scheduler.pause('sweep')
  })
})
