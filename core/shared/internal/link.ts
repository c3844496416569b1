import type { ConsolaInstance } from 'consola'
import type Redis from 'ioredis'
import type { SharedStatus } from '../index.ts'

/** Whether Redis may be used now, and the one log line each way per outage. */
export interface Link {
  usable(): boolean
  /** A command worked: an outage seen only through failed commands is over. */
  worked(): void
  /** A command failed: Redis is left alone for a moment (callers go local at once), and an outage starts. */
  failed(error: unknown): void
  status(): SharedStatus
  onRecover(listener: () => void): () => void
  /** Our own close is no outage. */
  stop(): void
}

/** After a failed command (a timeout on a connection that looks open), callers stay local this long before trying again. */
const SUSPEND_MS = 1000

/**
 * Follows both connections (commands, and the one subscribed to messages): an outage starts at the first sign of
 * either going (a close, a connection error, a failed command) and ends when both are ready again and commands work.
 */
export function watchLink(commands: Redis, messages: Redis, logger: ConsolaInstance): Link {
  let down: string | undefined
  let suspendedUntil = 0
  let stopped = false
  const listeners = new Set<() => void>()

  const lost = (reason: string) => {
    if (down !== undefined || stopped) return
    down = reason
    logger.warn(`Redis unreachable (${reason}): counters, leases, messages and key state are this instance's own until it is back`)
  }
  const recover = () => {
    if (down === undefined || stopped || commands.status !== 'ready' || messages.status !== 'ready') return
    down = undefined
    suspendedUntil = 0
    logger.info('Redis reachable again: state is shared with the other instances again')
    for (const listener of listeners) {
      try {
        listener()
      } catch (error) {
        logger.warn('catching up after the Redis outage failed:', error)
      }
    }
  }
  for (const client of [commands, messages]) {
    // Without an 'error' listener ioredis prints every failed reconnect attempt as an unhandled error event.
    client.on('error', (error: Error) => lost(error.message))
    client.on('close', () => lost('the connection closed'))
    client.on('ready', recover)
  }

  return {
    usable: () => commands.status === 'ready' && Date.now() >= suspendedUntil,
    worked: () => {
      if (down !== undefined) recover()
    },
    failed(error) {
      suspendedUntil = Date.now() + SUSPEND_MS
      lost(error instanceof Error ? error.message : String(error))
    },
    status: () => (down === undefined ? 'shared' : 'degraded'),
    onRecover(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    stop() {
      stopped = true
      listeners.clear()
    },
  }
}
