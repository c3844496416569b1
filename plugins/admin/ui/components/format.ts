// How numbers, times and durations read everywhere in the console.

const integer = new Intl.NumberFormat()
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 })
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' })
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })

export function formatNumber(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : integer.format(value)
}

/** 1.2M, 35K: for cards and token counts where the exact figure is in the title. */
export function formatCompact(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : compact.format(value)
}

export function formatPercent(part: number, whole: number): string {
  if (!whole) return '–'
  const percent = (part / whole) * 100
  return `${percent < 10 && percent > 0 ? percent.toFixed(1) : Math.round(percent)}%`
}

/** Date and time, local; today's times without the date. */
export function formatTime(epochMs: number | null | undefined): string {
  if (epochMs === null || epochMs === undefined) return '–'
  const date = new Date(epochMs)
  return date.toDateString() === new Date().toDateString() ? timeOnly.format(date) : dateTime.format(date)
}

export function formatDateTime(epochMs: number): string {
  return dateTime.format(new Date(epochMs))
}

/** "in 3 minutes", "5 hours ago". */
export function formatRelative(epochMs: number, now = Date.now()): string {
  const seconds = Math.round((epochMs - now) / 1000)
  const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ]
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit)
  }
  return relative.format(seconds, 'second')
}

/** 850 ms, 2.4 s, 3 min 10 s. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`
  const minutes = Math.floor(ms / 60_000)
  const seconds = Math.round((ms % 60_000) / 1000)
  return minutes < 60 ? `${minutes} min${seconds ? ` ${seconds} s` : ''}` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`
}

/** A JSON body indented when it parses, as it came otherwise. */
export function prettyJson(text: string | null | undefined): string {
  if (!text) return ''
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return text
  }
}

/** Any setting value as one line of text. */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return '–'
  if (typeof value === 'string') return value === '' ? '""' : value
  if (Array.isArray(value)) return value.length ? value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(', ') : '[]'
  return JSON.stringify(value)
}
