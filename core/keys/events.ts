import type { ConsolaInstance } from 'consola'
import type { KeyEvent } from '../views.ts'

export type { KeyEvent } from '../views.ts'

export interface KeyEvents {
  /**
   * The newest `limit` (default 100) events with an id above `after` (default 0), oldest first. Only the last
   * `capacity` events are held. Ids start again at 1 when the gateway restarts: a reader holding an `after` above
   * every id it gets back should start over from 0.
   */
  list(options?: { after?: number; limit?: number }): KeyEvent[]
}

export interface KeyEventLog extends KeyEvents {
  /** Keeps the event and writes one line to the gateway's log. */
  record(event: Omit<KeyEvent, 'id' | 'at'>): KeyEvent
}

export interface KeyEventLogOptions {
  logger: ConsolaInstance
  /** How many of the latest events are held. */
  capacity?: number
  now?: () => number
}

const DEFAULT_LIMIT = 100

/** A ring buffer of the latest key events: recording is O(1), listing O(limit), memory bounded. */
export function createKeyEventLog({ logger, capacity = 500, now = Date.now }: KeyEventLogOptions): KeyEventLog {
  if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`key event capacity must be a positive integer, not ${capacity}`)
  const ring: KeyEvent[] = []
  let lastId = 0

  return {
    record(input) {
      const event: KeyEvent = { id: ++lastId, at: now(), ...input }
      ring[(event.id - 1) % capacity] = event
      if (event.kind === 'disabled' || event.kind === 'cooled') logger.warn(describe(event))
      else logger.info(describe(event))
      return event
    },
    list({ after = 0, limit = DEFAULT_LIMIT } = {}) {
      const first = Math.max(after + 1, lastId - capacity + 1, lastId - Math.max(0, Math.floor(limit)) + 1, 1)
      const events: KeyEvent[] = []
      for (let id = first; id <= lastId; id++) events.push(ring[(id - 1) % capacity]!)
      return events
    },
  }
}

/** One log line: `key AIza...x9Qk (gemini) cooled down for gemini-2.5-flash until 2026-11-28T12:00:00.000Z: <reason>`. */
function describe({ label, pool, kind, model, until, reason }: KeyEvent): string {
  const what =
    kind === 'cooled'
      ? `cooled down for ${model}${until === undefined ? '' : ` until ${new Date(until).toISOString()}`}`
      : kind === 'restored'
        ? `back for ${model}`
        : kind
  return `key ${label} (${pool}) ${what}: ${reason}`
}
