// Scheduled jobs (key re-checks, log retention, session sweep, ...): their last and next runs, run one now, pause or
// resume it. Also gemini-balance's scheduler start/stop, which resume or pause every job.
import type { AdminCall, AdminRoutes } from '../internal/route.ts'
import { notFound } from '../internal/http.ts'
import type { AdminDeps } from '../internal/types.ts'

export function registerJobRoutes(routes: AdminRoutes, { control }: AdminDeps): void {
  const { jobs } = control
  const named = (call: AdminCall) => {
    const name = call.param('name')
    if (!jobs.list().some((job) => job.name === name)) throw notFound('No job has this name.')
    return name
  }

  routes.api('GET', '/api/jobs', () => jobs.list())
  routes.api('POST', '/api/jobs/:name/run', (call) => jobs.run(named(call)))
  routes.api('POST', '/api/jobs/:name/pause', (call) => jobs.pause(named(call)))
  routes.api('POST', '/api/jobs/:name/resume', (call) => jobs.resume(named(call)))

  routes.api('POST', '/api/scheduler/start', () => {
    for (const job of jobs.list()) if (job.paused) jobs.resume(job.name)
    return { success: true, message: 'Every job is scheduled.', jobs: jobs.list() }
  })
  routes.api('POST', '/api/scheduler/stop', () => {
    for (const job of jobs.list()) if (!job.paused) jobs.pause(job.name)
    return { success: true, message: 'Every job is paused.', jobs: jobs.list() }
  })
}
