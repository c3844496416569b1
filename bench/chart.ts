// docs/bench-latest.svg: the latest run as grouped bars, one panel per metric, one group per scenario, one bar per
// system, with gemgate's target drawn over each group; and the soak's RSS over time when it ran. Plain SVG text, no
// dependency.
import type { Row } from './report.ts'
import type { SoakResult } from './soak.ts'
import { LABELS, type SystemName } from './systems.ts'

export interface Panel {
  title: string
  rows: Row[]
}

const SERIES: { system: SystemName; label: string; color: string }[] = [
  { system: 'bare', label: 'bare node:http proxy', color: '#9e9e9e' },
  { system: 'node', label: 'gemgate on Node', color: '#2e7d32' },
  { system: 'bun', label: 'gemgate on Bun', color: '#ef6c00' },
  { system: 'portkey', label: 'Portkey gateway', color: '#6a1b9a' },
]
const BOUND_COLOR = '#c62828'
const PANEL = { width: 480, height: 250, gap: 20, top: 34, bottom: 44, left: 52, right: 10 }
const WIDTH = 2 * PANEL.width + 3 * PANEL.gap
const HEADER = 94

/** `subtitle`: two lines at most (what was measured, on what). */
export function renderChart(title: string, subtitle: string[], panels: Panel[], soak?: SoakResult[]): string {
  const rows = Math.ceil(panels.length / 2)
  const soakHeight = soak ? PANEL.height + PANEL.gap : 0
  const height = HEADER + rows * (PANEL.height + PANEL.gap) + soakHeight
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    text(PANEL.gap, 22, title, { size: 16, weight: 'bold' }),
    ...subtitle.slice(0, 2).map((line, i) => text(PANEL.gap, 40 + i * 15, line, { fill: '#555' })),
    legend(PANEL.gap, 78),
  ]
  panels.forEach((panel, i) => {
    const x = PANEL.gap + (i % 2) * (PANEL.width + PANEL.gap)
    const y = HEADER + Math.floor(i / 2) * (PANEL.height + PANEL.gap)
    parts.push(barPanel(panel, x, y))
  })
  if (soak) parts.push(soakPanel(soak, PANEL.gap, HEADER + rows * (PANEL.height + PANEL.gap), WIDTH - 2 * PANEL.gap))
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}

function legend(x: number, y: number): string {
  const items = SERIES.map((s, i) => `<rect x="${x + i * 170}" y="${y - 9}" width="12" height="10" fill="${s.color}"/>${text(x + i * 170 + 16, y, s.label)}`)
  const bx = x + SERIES.length * 170
  items.push(`<line x1="${bx}" y1="${y - 4}" x2="${bx + 22}" y2="${y - 4}" stroke="${BOUND_COLOR}" stroke-width="2" stroke-dasharray="4 3"/>`)
  items.push(text(bx + 26, y, "gemgate's target (DESIGN.md)"))
  return items.join('')
}

function barPanel(panel: Panel, x: number, y: number): string {
  const inner = { x: x + PANEL.left, y: y + PANEL.top, w: PANEL.width - PANEL.left - PANEL.right, h: PANEL.height - PANEL.top - PANEL.bottom }
  const bounds = panel.rows.map((row) => row.bound?.value(row.values))
  const all = panel.rows.flatMap((row) => SERIES.map((s) => row.values[s.system])).concat(bounds)
  const finite = all.filter((v): v is number => v !== undefined && Number.isFinite(v))
  const [lo, hi] = [Math.min(0, ...finite), niceCeil(Math.max(0, ...finite))]
  const scale = (v: number) => inner.y + inner.h - ((v - lo) / (hi - lo || 1)) * inner.h
  const out = [
    `<rect x="${x}" y="${y}" width="${PANEL.width}" height="${PANEL.height}" fill="none" stroke="#e0e0e0"/>`,
    text(x + 8, y + 18, panel.title, { weight: 'bold' }),
  ]
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4
    out.push(`<line x1="${inner.x}" y1="${scale(v)}" x2="${inner.x + inner.w}" y2="${scale(v)}" stroke="${v === 0 ? '#888' : '#eee'}"/>`)
    out.push(text(inner.x - 4, scale(v) + 4, short(v), { anchor: 'end', fill: '#666' }))
  }
  const groupWidth = inner.w / Math.max(1, panel.rows.length)
  const barWidth = (groupWidth * 0.8) / SERIES.length
  panel.rows.forEach((row, g) => {
    const gx = inner.x + g * groupWidth + groupWidth * 0.1
    SERIES.forEach((s, b) => {
      const v = row.values[s.system]
      const bx = gx + b * barWidth
      if (v === undefined || !Number.isFinite(v)) {
        out.push(text(bx + barWidth / 2, scale(0) - 3, '–', { anchor: 'middle', fill: '#999' }))
        return
      }
      const [top, bottom] = v >= 0 ? [scale(v), scale(0)] : [scale(0), scale(v)]
      out.push(
        `<rect x="${bx.toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${Math.max(0.5, bottom - top).toFixed(1)}" fill="${s.color}"><title>${esc(`${s.label}: ${v}`)}</title></rect>`,
      )
      out.push(text(bx + barWidth / 2 - 1, (v >= 0 ? top : bottom + 9) - 2, short(v), { anchor: 'middle', size: 8 }))
    })
    const bound = bounds[g]
    if (bound !== undefined && Number.isFinite(bound)) {
      out.push(
        `<line x1="${gx}" y1="${scale(bound)}" x2="${gx + groupWidth * 0.8}" y2="${scale(bound)}" stroke="${BOUND_COLOR}" stroke-width="2" stroke-dasharray="4 3"/>`,
      )
    }
    const scenario = (row.metric.split(': ')[0] ?? row.metric).replace(' generateContent', '').replace(' chat', '')
    out.push(text(gx + groupWidth * 0.4, inner.y + inner.h + 16, scenario, { anchor: 'middle' }))
  })
  return out.join('\n')
}

function soakPanel(soak: SoakResult[], x: number, y: number, width: number): string {
  const inner = { x: x + PANEL.left, y: y + PANEL.top, w: width - PANEL.left - PANEL.right, h: PANEL.height - PANEL.top - PANEL.bottom }
  const points = soak.flatMap((r) => r.samples)
  const tMax = Math.max(1, ...points.map((p) => p.t))
  const hi = niceCeil(Math.max(1, ...points.map((p) => p.mb)))
  const sx = (t: number) => inner.x + (t / tMax) * inner.w
  const sy = (mb: number) => inner.y + inner.h - (mb / hi) * inner.h
  const out = [
    `<rect x="${x}" y="${y}" width="${width}" height="${PANEL.height}" fill="none" stroke="#e0e0e0"/>`,
    text(x + 8, y + 18, 'Soak: RSS (MB) over the run; the verdict compares the last third with the middle third', { weight: 'bold' }),
  ]
  for (let i = 0; i <= 4; i++) {
    const mb = (hi * i) / 4
    out.push(
      `<line x1="${inner.x}" y1="${sy(mb)}" x2="${inner.x + inner.w}" y2="${sy(mb)}" stroke="#eee"/>`,
      text(inner.x - 4, sy(mb) + 4, short(mb), { anchor: 'end', fill: '#666' }),
    )
  }
  for (const third of [1 / 3, 2 / 3])
    out.push(`<line x1="${sx(third * tMax)}" y1="${inner.y}" x2="${sx(third * tMax)}" y2="${inner.y + inner.h}" stroke="#bbb" stroke-dasharray="2 3"/>`)
  out.push(text(inner.x + inner.w, inner.y + inner.h + 16, `${(tMax / 60).toFixed(1)} min`, { anchor: 'end', fill: '#666' }))
  soak.forEach((r, i) => {
    const color = SERIES.find((s) => LABELS[s.system] === r.label)?.color ?? '#333'
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${r.samples.map((p) => `${sx(p.t).toFixed(1)},${sy(p.mb).toFixed(1)}`).join(' ')}"/>`,
    )
    const verdict = `${r.label}: ${r.middleMb.toFixed(0)} → ${r.lastMb.toFixed(0)} MB (${(r.growth * 100).toFixed(1)}%), ${r.flat ? 'flat' : 'growing'}`
    out.push(text(inner.x, inner.y + inner.h + 16 + i * 14, verdict, { fill: color }))
  })
  return out.join('\n')
}

function niceCeil(v: number): number {
  if (v <= 0) return 1
  const magnitude = 10 ** Math.floor(Math.log10(v))
  return ([1, 2, 2.5, 5, 10].find((step) => step * magnitude >= v) ?? 10) * magnitude
}

const short = (v: number): string => (Math.abs(v) >= 100 ? Math.round(v).toString() : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2))

function text(x: number, y: number, content: string, o: { size?: number; weight?: string; fill?: string; anchor?: string } = {}): string {
  const attrs = [
    `x="${x.toFixed(1)}"`,
    `y="${y.toFixed(1)}"`,
    o.size && `font-size="${o.size}"`,
    o.weight && `font-weight="${o.weight}"`,
    o.fill && `fill="${o.fill}"`,
    o.anchor && `text-anchor="${o.anchor}"`,
  ]
  return `<text ${attrs.filter(Boolean).join(' ')}>${esc(content)}</text>`
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** The panels of the chart, picked from the table's rows by metric. */
export function chartPanels(main: Row[], bursts: Row[], streams: number): Panel[] {
  const rowsOf = (rows: Row[], metric: string) => rows.filter((row) => row.metric.endsWith(`: ${metric}`))
  const throughput = main.filter((row) => / throughput @/.test(row.metric))
  return [
    { title: 'Added latency p50 at concurrency 1 (ms, lower is better)', rows: rowsOf(main, 'added p50 @c=1 (ms)') },
    { title: 'Added latency p99 at concurrency 1 (ms)', rows: rowsOf(main, 'added p99 @c=1 (ms)') },
    { title: 'Throughput at 64 connections (req/s, higher is better)', rows: throughput },
    { title: 'CPU per request (ms)', rows: rowsOf(main, 'CPU per request (ms)') },
    { title: `${streams} concurrent streams: added first-chunk p99 (ms)`, rows: rowsOf(bursts, 'added first chunk p99 (ms)') },
    { title: `${streams} concurrent streams: peak RSS (MB)`, rows: rowsOf(bursts, 'peak RSS, fresh process (MB)') },
  ]
}
