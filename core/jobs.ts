// The gateway's own scheduled jobs, built per generation from its config (the scheduler runs them in TIMEZONE, once
// across instances unless a job says otherwise).
import { deleteOlderThan, type GatewayDatabase } from '../storage/index.ts'
import type { ResolvedConfig } from './config/schema.ts'
import type { KeyPool } from './keys/pool.ts'
import type { Recheck } from './keys/recheck.ts'
import { everyHours, type JobDefinition } from './scheduler.ts'

/** The gateway's own jobs: re-checking disabled keys, deleting old logs, forgetting cooldowns that ran out. */
export function gatewayJobs(config: ResolvedConfig, deps: { recheck: Recheck; pools: () => KeyPool[]; database: GatewayDatabase }): JobDefinition[] {
  const purge = async (table: 'request_logs' | 'error_logs', rule: { enabled: boolean; days: number }) =>
    rule.enabled ? deleteOlderThan(deps.database, table, Date.now() - rule.days * 86_400_000) : 0
  return [
    {
      name: 'key-recheck',
      description: 'Tests disabled keys with the fixed request on TEST_MODEL; a key that answers goes back into rotation (CHECK_INTERVAL_HOURS).',
      schedule: everyHours(config.checkIntervalHours),
      run: async (signal) => {
        const { checked, reenabled } = await deps.recheck.runNow(signal)
        return `${checked} key(s) checked, ${reenabled} back in rotation`
      },
    },
    {
      name: 'log-retention',
      description: 'Deletes request and error logs older than AUTO_DELETE_*_DAYS (statistics stay in the rollups).',
      schedule: '0 0 * * *',
      run: async () => {
        const requestLogs = await purge('request_logs', { enabled: config.autoDeleteRequestLogsEnabled, days: config.autoDeleteRequestLogsDays })
        const errorLogs = await purge('error_logs', { enabled: config.autoDeleteErrorLogsEnabled, days: config.autoDeleteErrorLogsDays })
        return `${requestLogs} request log(s) and ${errorLogs} error log(s) deleted`
      },
    },
    {
      name: 'pool-sweep',
      description: 'Forgets cooldowns that ran out, in memory and in the shared key state, for models nobody asks for any more.',
      schedule: '* * * * *',
      // This process's memory: every instance sweeps its own.
      everyInstance: true,
      run: async () => {
        for (const pool of deps.pools()) pool.sweep()
      },
    },
  ]
}
