// Successes and failures over time, stacked by failure class. Chart.js is tree-shaken: only the bar chart, its two
// scales, the tooltip and the legend are registered (and bundled).
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type ChartConfiguration } from 'chart.js'
import { useEffect, useRef, useState } from 'preact/hooks'
import { formatNumber } from '../../components/format.ts'
import type { Series } from '../../types.ts'

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend)

/** One colour per class, readable on the light and the dark background. */
const CLASS_COLORS: Record<string, string> = {
  'rate-limited': '#e8a317',
  'quota-exhausted': '#f07b3f',
  'invalid-key': '#d64545',
  'model-unavailable': '#9b59b6',
  'upstream-error': '#e05297',
  'transport-error': '#8d6e63',
  'client-error': '#5c7cfa',
  'client-cancelled': '#90a4ae',
  'empty-answer': '#26a69a',
  ambiguous: '#c0ca33',
  'gateway-error': '#8b1e3f',
}
const FALLBACK_COLORS = ['#7e57c2', '#29b6f6', '#ff7043', '#66bb6a']

export function SeriesChart({ series }: { series: Series }) {
  const canvas = useRef<HTMLCanvasElement>(null)
  const chart = useRef<Chart<'bar'> | undefined>(undefined)
  const scheme = useColorScheme()

  useEffect(() => {
    const config = chartConfig(series)
    if (chart.current) {
      chart.current.data = config.data
      chart.current.options = config.options ?? {}
      chart.current.update()
    } else if (canvas.current) {
      chart.current = new Chart(canvas.current, config)
    }
  }, [series, scheme])
  useEffect(() => () => chart.current?.destroy(), [])

  const totals = series.points.reduce((sum, point) => ({ requests: sum.requests + point.requests, failures: sum.failures + point.failures }), {
    requests: 0,
    failures: 0,
  })
  return (
    <figure class="chart" data-testid="dash-chart">
      <div class="chart-box">
        <canvas ref={canvas} role="img" aria-label={`Requests over time: ${totals.requests} in all, ${totals.failures} failed`} />
      </div>
      <figcaption class="muted">
        {formatNumber(totals.requests)} requests, {formatNumber(totals.failures)} failed, in buckets of {bucketName(series.bucketMs)}.
      </figcaption>
    </figure>
  )
}

function chartConfig({ bucketMs, points }: Series): ChartConfiguration<'bar'> {
  const colors = themeColors()
  const span = points.length ? points[points.length - 1]!.t - points[0]!.t : 0
  const classes = [...new Set(points.flatMap((point) => Object.keys(point.byClass).filter((name) => point.byClass[name])))].sort()
  const datasets = [
    { label: 'succeeded', data: points.map((point) => Math.max(0, point.requests - point.failures)), backgroundColor: colors.ok, stack: 'all' },
    ...classes.map((name, i) => ({
      label: name,
      data: points.map((point) => point.byClass[name] ?? 0),
      backgroundColor: CLASS_COLORS[name] ?? FALLBACK_COLORS[i % FALLBACK_COLORS.length]!,
      stack: 'all',
    })),
  ]
  return {
    type: 'bar',
    data: { labels: points.map((point) => bucketLabel(point.t, bucketMs, span)), datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { stacked: true, ticks: { color: colors.text, maxRotation: 0, autoSkipPadding: 12 }, grid: { display: false } },
        y: { stacked: true, beginAtZero: true, ticks: { color: colors.text, precision: 0 }, grid: { color: colors.grid } },
      },
      plugins: {
        legend: { position: 'bottom', labels: { color: colors.text, boxWidth: 12 } },
        tooltip: { filter: (item) => item.parsed.y !== 0 },
      },
    },
  }
}

function themeColors(): { text: string; grid: string; ok: string } {
  const style = getComputedStyle(document.documentElement)
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback
  return { text: read('--muted', '#666'), grid: read('--border', '#ddd'), ok: read('--chart-ok', '#3fa34d') }
}

const hourMinute = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
const dayHour = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit' })
const day = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' })

/** The bucket's start, as precise as its size needs, with the weekday when the chart spans days. */
function bucketLabel(t: number, bucketMs: number, span: number): string {
  const date = new Date(t)
  if (bucketMs >= 86_400_000) return day.format(date)
  return span >= 86_400_000 ? dayHour.format(date) : hourMinute.format(date)
}

function bucketName(bucketMs: number): string {
  if (bucketMs >= 86_400_000) return `${bucketMs / 86_400_000} day${bucketMs > 86_400_000 ? 's' : ''}`
  if (bucketMs >= 3_600_000) return `${bucketMs / 3_600_000} hour${bucketMs > 3_600_000 ? 's' : ''}`
  return `${bucketMs / 60_000} minute${bucketMs > 60_000 ? 's' : ''}`
}

/** 'dark' or 'light', following the system while the page is open (the chart's colours come from the style sheet). */
function useColorScheme(): 'dark' | 'light' {
  const [scheme, setScheme] = useState<'dark' | 'light'>(DARK.matches ? 'dark' : 'light')
  useEffect(() => {
    const update = () => setScheme(DARK.matches ? 'dark' : 'light')
    DARK.addEventListener('change', update)
    return () => DARK.removeEventListener('change', update)
  }, [])
  return scheme
}

const DARK = matchMedia('(prefers-color-scheme: dark)')
