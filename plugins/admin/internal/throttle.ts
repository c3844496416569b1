// Wrong admin tokens slow their sender down: after a few failures an address waits, longer after each further one,
// and is forgotten only after a quiet spell. While it waits even the right token is refused (unchecked), so waiting
// out the block is the only way on, and guessing costs time whatever the guesses are.

export interface LoginThrottle {
  /** Seconds the address must still wait; undefined when it may try now. */
  retryAfter(address: string): number | undefined
  failed(address: string): void
  succeeded(address: string): void
}

export interface LoginThrottleOptions {
  /** Failures allowed before the first wait. */
  attempts?: number
  /** The first wait; each further failure doubles it, up to `maxDelayMs`. */
  delayMs?: number
  maxDelayMs?: number
  /** An address is forgotten this long after its last wait ended (or its last failure, when it had none). */
  quietMs?: number
  /** Addresses remembered at most; the least recently failing go first. */
  maxAddresses?: number
  now?: () => number
}

interface Failures {
  failures: number
  last: number
}

export function createLoginThrottle({
  attempts = 5,
  delayMs = 60_000,
  maxDelayMs = 15 * 60_000,
  quietMs = 15 * 60_000,
  maxAddresses = 10_000,
  now = () => Date.now(),
}: LoginThrottleOptions = {}): LoginThrottle {
  const records = new Map<string, Failures>()
  const delayOf = (failures: number) => (failures < attempts ? 0 : Math.min(delayMs * 2 ** (failures - attempts), maxDelayMs))
  /** The address's record while it is remembered. */
  const current = (address: string): Failures | undefined => {
    const record = records.get(address)
    if (record && now() >= record.last + delayOf(record.failures) + quietMs) {
      records.delete(address)
      return undefined
    }
    return record
  }

  return {
    retryAfter(address) {
      const record = current(address)
      if (!record) return undefined
      const waitMs = record.last + delayOf(record.failures) - now()
      return waitMs > 0 ? Math.ceil(waitMs / 1000) : undefined
    },
    failed(address) {
      const failures = (current(address)?.failures ?? 0) + 1
      // Re-inserted, so the map's order is by last failure and the oldest is the first to go.
      records.delete(address)
      records.set(address, { failures, last: now() })
      if (records.size > maxAddresses) records.delete(records.keys().next().value!)
    },
    succeeded(address) {
      records.delete(address)
    },
  }
}
