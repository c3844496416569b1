// The time spans the console reports on.

export const MINUTE = 60_000
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

/** The dashboard's ranges and the bucket each is charted in. */
export const RANGES = {
  '1h': { ms: HOUR, bucketMs: MINUTE },
  '24h': { ms: DAY, bucketMs: HOUR },
  '7d': { ms: 7 * DAY, bucketMs: HOUR },
  '30d': { ms: 30 * DAY, bucketMs: DAY },
} as const

export type Range = keyof typeof RANGES

/** The last minute, hour, day and 30 days ("month"), ending now. */
export function windows(now: number): Record<'minute' | 'hour' | 'day' | 'month', { from: number; to: number }> {
  return {
    minute: { from: now - MINUTE, to: now },
    hour: { from: now - HOUR, to: now },
    day: { from: now - DAY, to: now },
    month: { from: now - 30 * DAY, to: now },
  }
}
