import type { CounterWindow } from '../../shared/index.ts'
import { nextPacificMidnight } from '../quota-clock.ts'

/** A span of time [start, end) in epoch ms. */
export interface Span {
  start: number
  end: number
}

/** The UTC minute that holds `now`. */
export function minuteAt(now: number): Span {
  const start = now - (now % 60_000)
  return { start, end: start + 60_000 }
}

/**
 * The Pacific day that holds `now`: from its midnight to the next, 23 h on the spring-forward Sunday and 25 h on the
 * fall-back one. The midnight before `end` lies 23 to 25 h before it, so it is the first one after `end - 26 h`.
 */
export function pacificDayAt(now: number): Span {
  const end = nextPacificMidnight(now)
  return { start: nextPacificMidnight(end - 26 * 3_600_000), end }
}

/** pacificDayAt, computed again only when `now` leaves the day it computed last (Intl is slow next to a compare). */
export function createPacificDays(): (now: number) => Span {
  let day: Span = { start: 0, end: 0 }
  return (now) => {
    if (now < day.start || now >= day.end) day = pacificDayAt(now)
    return day
  }
}

const DAY_MS = 86_400_000

/**
 * The counter window of a Pacific day. Days of 24 h share one definition from one clock change to the next (their
 * midnights are 24 h apart), so a counter keeps one slot; the two days a year of 23 and 25 h get one each.
 */
export function dayWindow(day: Span): CounterWindow {
  const ms = day.end - day.start
  return ms === DAY_MS ? { ms, anchor: day.start % DAY_MS } : { ms, anchor: day.start }
}
