// Scheduled jobs (key re-check, log retention, ...): schedule in the gateway's time zone, last and next run; run one
// now, pause or resume it.
import { useState } from 'preact/hooks'
import { errorMessage, get, post } from '../api.ts'
import { Badge, LoadState, PageHeader } from '../components/bits.tsx'
import { formatDuration, formatRelative, formatTime } from '../components/format.ts'
import { DataTable, type Column } from '../components/table.tsx'
import { toast } from '../components/toast.tsx'
import { useInterval, useLoad } from '../components/use-load.ts'
import type { JobView } from '../types.ts'

type JobAction = 'run' | 'pause' | 'resume'

export function JobsPage() {
  const jobs = useLoad(() => get<JobView[]>('/api/jobs'), [])
  const [pending, setPending] = useState<ReadonlySet<string>>(new Set())
  const list = jobs.data ?? []
  useInterval(() => void jobs.reload(), list.some((job) => job.running) ? 2000 : 15_000)

  const act = async (job: JobView, action: JobAction) => {
    setPending((current) => new Set(current).add(job.name))
    try {
      // A run answers when it has finished, with its outcome.
      const view = await post<JobView>(`/api/jobs/${encodeURIComponent(job.name)}/${action}`)
      jobs.setData(list.map((j) => (j.name === view.name ? view : j)))
      if (action === 'run')
        toast(`${job.name}: ${view.lastRun?.ok ? (view.lastRun.summary ?? 'done') : (view.lastRun?.error ?? 'failed')}`, view.lastRun?.ok ? 'ok' : 'error')
    } catch (error) {
      toast(errorMessage(error), 'error')
    } finally {
      setPending((current) => {
        const next = new Set(current)
        next.delete(job.name)
        return next
      })
      void jobs.reload()
    }
  }

  const columns: Column<JobView>[] = [
    {
      id: 'name',
      label: 'Job',
      render: (job) => (
        <div>
          <strong class="mono">{job.name}</strong>
          <small>{job.description}</small>
        </div>
      ),
    },
    {
      id: 'schedule',
      label: 'Schedule',
      render: (job) =>
        job.schedule ? (
          <span>
            <code>{job.schedule}</code> <small class="muted">{job.timezone}</small>
          </span>
        ) : (
          <span class="muted">on demand only</span>
        ),
    },
    { id: 'last', label: 'Last run', render: (job) => <LastRun job={job} /> },
    {
      id: 'next',
      label: 'Next run',
      render: (job) =>
        job.paused ? (
          <Badge tone="warn" testid="job-paused">
            paused
          </Badge>
        ) : job.nextRun ? (
          <time title={formatTime(job.nextRun)}>{formatRelative(job.nextRun)}</time>
        ) : (
          <span class="muted">–</span>
        ),
    },
    {
      id: 'actions',
      label: 'Actions',
      class: 'actions',
      render: (job) => (
        <div class="row-actions">
          <button type="button" class="button small" disabled={job.running || pending.has(job.name)} onClick={() => void act(job, 'run')} data-testid="job-run">
            {job.running ? 'Running…' : 'Run now'}
          </button>
          {job.schedule &&
            (job.paused ? (
              <button type="button" class="button small" disabled={pending.has(job.name)} onClick={() => void act(job, 'resume')} data-testid="job-resume">
                Resume
              </button>
            ) : (
              <button type="button" class="button small" disabled={pending.has(job.name)} onClick={() => void act(job, 'pause')} data-testid="job-pause">
                Pause
              </button>
            ))}
        </div>
      ),
    },
  ]

  return (
    <div class="page" data-testid="jobs-page">
      <PageHeader title="Jobs" />
      <LoadState loading={jobs.loading && !jobs.data} error={jobs.error} retry={jobs.reload} />
      {jobs.data && (
        <DataTable
          testid="jobs-table"
          rowTestid="job-row"
          columns={columns}
          rows={list}
          rowKey={(job) => job.name}
          rowLabel={(job) => job.name}
          rowData={(job) => ({ paused: String(job.paused), running: String(job.running) })}
          empty="No job is scheduled."
        />
      )}
    </div>
  )
}

function LastRun({ job }: { job: JobView }) {
  const run = job.lastRun
  if (!run) return <span class="muted">{job.running ? 'running now' : 'not yet'}</span>
  return (
    <div class="last-run" data-testid="job-last-run" data-ok={String(run.ok)}>
      <Badge tone={run.ok ? 'ok' : 'bad'}>{run.ok ? 'ok' : 'error'}</Badge> <time title={formatTime(run.at)}>{formatRelative(run.at)}</time>{' '}
      <span class="muted">({formatDuration(run.durationMs)})</span>
      {(run.ok ? run.summary : run.error) && <small>{run.ok ? run.summary : run.error}</small>}
    </div>
  )
}
