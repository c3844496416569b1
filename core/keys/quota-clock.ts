/**
 * When Gemini's daily quotas reset. Pure: time comes in as data, nothing reads the clock.
 *
 * Google: "Requests per day (RPD) quotas reset at midnight Pacific time" — i.e. 00:00 in America/Los_Angeles,
 * which is 08:00 UTC under PST and 07:00 UTC under PDT. The offset is taken from Intl (the ICU tz database
 * Node ships), so DST rules stay right without a tz package.
 */

const PACIFIC = 'America/Los_Angeles'

// One formatter, built once: constructing Intl.DateTimeFormat costs far more than using it.
// hourCycle h23 because `hour12: false` prints midnight as "24" on some ICU versions.
const pacificWallClock = new Intl.DateTimeFormat('en-US', {
  timeZone: PACIFIC,
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
})

interface WallClock {
  year: number
  month: number // 1-12
  day: number
  hour: number
  minute: number
  second: number
}

function wallClockAt(epochMs: number): WallClock {
  const fields: Record<string, number> = {}
  for (const part of pacificWallClock.formatToParts(epochMs)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value)
  }
  return {
    year: fields.year!,
    month: fields.month!,
    day: fields.day!,
    hour: fields.hour!,
    minute: fields.minute!,
    second: fields.second!,
  }
}

/** Pacific wall time minus UTC at `epochMs`, in ms (-8 h under PST, -7 h under PDT). */
function pacificOffsetAt(epochMs: number): number {
  const whole = Math.floor(epochMs / 1000) * 1000 // the formatter has second resolution
  const w = wallClockAt(whole)
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - whole
}

/**
 * The next 00:00 America/Los_Angeles strictly after `now` (at exactly midnight, the following one), as epoch ms.
 * Days are 23 h on the spring-forward Sunday and 25 h on the fall-back Sunday; both are handled because the
 * offset is re-read at the result (US transitions happen at 02:00, so midnight itself is never skipped or doubled).
 */
export function nextPacificMidnight(now: number): number {
  const today = wallClockAt(now)
  // Tomorrow 00:00 as if Pacific wall time were UTC; Date.UTC rolls day 32 into the next month/year.
  const wallMidnight = Date.UTC(today.year, today.month - 1, today.day + 1)
  const guess = wallMidnight - pacificOffsetAt(now)
  // The offset at `now` is wrong when a DST change lies between now and midnight: correct with the offset there.
  return wallMidnight - pacificOffsetAt(guess)
}
