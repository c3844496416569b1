// The tables: every measured value beside DESIGN.md's target ("Performance budget"), as ratios to the bare proxy and
// to Portkey, with a verdict for gemgate on Node and on Bun.
import type { LatencyResult, RepeatedThroughput } from './measure.ts'
import type { BurstCell, CellResult, Settings } from './scenarios.ts'
import type { SoakResult, SoakSettings } from './soak.ts'
import type { Kind, Shape, SystemName } from './systems.ts'

export interface Results {
  settings: Settings
  kinds: Record<Kind, Map<string, CellResult>>
  bursts: Map<string, BurstCell | { skipped: string }>
  soak?: { settings: SoakSettings; results: SoakResult[] }
}

const COLUMNS: SystemName[] = ['direct', 'bare', 'node', 'bun', 'portkey']
const PROXIES: SystemName[] = ['bare', 'node', 'bun', 'portkey']
export type Values = Partial<Record<SystemName, number>>

export interface Bound {
  at: 'most' | 'least'
  value: (values: Values) => number
}
const most = (value: Bound['value']): Bound => ({ at: 'most', value })
const least = (value: Bound['value']): Bound => ({ at: 'least', value })

export interface Row {
  /** "<scenario>: <metric>". */
  metric: string
  values: Values
  /** Systems the row is about; a missing value of one of them is n/a (not measured), of another "—". */
  applies: SystemName[]
  digits: number
  target: string
  /** The target as a number from the row's values: a gemgate value must stay at most (or at least) this. */
  bound?: Bound
  /** Systems whose run of this row had errors: their verdict is MISS (errors). */
  errors: Set<SystemName>
  format?: (value: number) => string
}

export const SECTIONS: { shape: Shape; kind: Kind; title: string }[] = [
  { shape: 'native', kind: 'unary', title: 'native generateContent' },
  { shape: 'native', kind: 'stream', title: 'native stream' },
  { shape: 'openai', kind: 'unary', title: 'OpenAI chat' },
  { shape: 'openai', kind: 'stream', title: 'OpenAI chat stream' },
]

/** Direct and the bare proxy exist in the native shape only: they are the reference for both shapes. */
const refShape = (system: SystemName, shape: Shape): Shape => (system === 'direct' || system === 'bare' ? 'native' : shape)
/** Portkey speaks OpenAI's shape only. */
const inShape = (systems: SystemName[], shape: Shape): SystemName[] => systems.filter((s) => shape === 'openai' || s !== 'portkey')

function pick(systems: SystemName[], value: (s: SystemName) => number | undefined): Values {
  const values: Values = {}
  for (const s of systems) {
    const v = value(s)
    if (v !== undefined) values[s] = v
  }
  return values
}

export function mainRows(r: Results): Row[] {
  const rows: Row[] = []
  for (const { shape, kind, title } of SECTIONS) {
    const cell = (s: SystemName, asShape = refShape(s, shape)) => r.kinds[kind].get(`${s}/${asShape}`)
    const failed = (problems: (c: CellResult | undefined) => number) => new Set(COLUMNS.filter((s) => problems(cell(s)) > 0))
    const [latencyErrors, throughputErrors] = [failed((c) => c?.latency?.failures ?? 0), failed((c) => c?.throughput?.problems ?? 0)]
    const proxies = inShape(PROXIES, shape)
    const row = (metric: string, values: Values, applies: SystemName[], digits: number, target = 'info', bound?: Bound, errors = latencyErrors): Row => ({
      metric: `${title}: ${metric}`,
      values,
      applies,
      digits,
      target,
      errors,
      ...(bound && { bound }),
    })
    const floor = cell('direct')?.latency
    const added = (field: keyof Pick<LatencyResult, 'p50' | 'p99' | 'firstP50' | 'firstP99'>) =>
      pick(proxies, (s) => {
        const latency = cell(s)?.latency
        return latency && floor ? latency[field] - floor[field] : undefined
      })
    rows.push(
      row(
        'added p50 @c=1 (ms)',
        added('p50'),
        proxies,
        2,
        "≤ bare's + 0.3 ms",
        most((v) => (v.bare ?? NaN) + 0.3),
      ),
    )
    rows.push(
      row(
        'added p99 @c=1 (ms)',
        added('p99'),
        proxies,
        2,
        "≤ bare's + 1 ms",
        most((v) => (v.bare ?? NaN) + 1),
      ),
    )
    if (kind === 'stream') {
      rows.push(row('added first chunk p50 @c=1 (ms)', added('firstP50'), proxies, 2))
      rows.push(
        row(
          'added first chunk p99 @c=1 (ms)',
          added('firstP99'),
          proxies,
          2,
          "≤ 1.5x bare's †",
          most((v) => 1.5 * Math.max(v.bare ?? NaN, 0)),
        ),
      )
    }
    if (shape === 'openai') {
      const conversion = pick(['node', 'bun'], (s) => {
        const [openai, native] = [cell(s, 'openai')?.latency, cell(s, 'native')?.latency]
        return openai && native ? openai.p50 - native.p50 : undefined
      })
      rows.push(
        row(
          'OpenAI − native p50, same process (ms)',
          conversion,
          ['node', 'bun'],
          2,
          '≤ 0.1 ms',
          most(() => 0.1),
        ),
      )
    }
    const throughput = pick(inShape(COLUMNS, shape), (s) => cell(s)?.throughput?.rps)
    const floorRate = least((v) => Math.max(0.8 * (v.bare ?? NaN), shape === 'openai' ? 4 * (v.portkey ?? 0) : 0))
    const target = `≥ 0.8x bare${shape === 'openai' ? ', ≥ 4x Portkey' : ''}`
    rows.push(row(`throughput @${r.settings.connections} conns (req/s)`, throughput, inShape(COLUMNS, shape), 0, target, floorRate, throughputErrors))
    const cpu = pick(proxies, (s) => cell(s)?.throughput?.cpuMsPerRequest)
    rows.push(
      row(
        'CPU per request (ms)',
        cpu,
        proxies,
        3,
        '≤ 0.3 ms',
        most(() => 0.3),
        throughputErrors,
      ),
    )
  }
  return rows
}

export function burstRows(r: Results): Row[] {
  const rows: Row[] = []
  const streams = r.settings.burst
  for (const shape of ['native', 'openai'] as const) {
    const burst = (s: SystemName) => {
      const b = r.bursts.get(`${s}/${refShape(s, shape)}`)
      return b && !('skipped' in b) ? b : undefined
    }
    const errors = new Set(COLUMNS.filter((s) => (burst(s)?.failed ?? 0) > 0))
    const [all, proxies] = [inShape(COLUMNS, shape), inShape(PROXIES, shape)]
    const title = shape === 'native' ? 'native stream' : 'OpenAI chat stream'
    const row = (metric: string, values: Values, applies: SystemName[], digits: number, target = 'info', bound?: Bound, format?: Row['format']): Row => ({
      metric: `${title}: ${metric}`,
      values,
      applies,
      digits,
      target,
      errors,
      ...(bound && { bound }),
      ...(format && { format }),
    })
    const floor = burst('direct')?.firstP99
    const addedFirst = pick(proxies, (s) => {
      const first = burst(s)?.firstP99
      return first !== undefined && floor !== undefined ? first - floor : undefined
    })
    rows.push(
      row(
        'streams completed',
        pick(all, (s) => burst(s)?.completed),
        all,
        0,
        'all',
        least(() => streams),
        (v) => `${v}/${streams}`,
      ),
    )
    rows.push(
      row(
        'first chunk p99 (ms)',
        pick(all, (s) => burst(s)?.firstP99),
        all,
        1,
      ),
    )
    rows.push(
      row(
        'added first chunk p99 (ms)',
        addedFirst,
        proxies,
        1,
        "≤ 1.5x bare's",
        most((v) => 1.5 * Math.max(v.bare ?? NaN, 0)),
      ),
    )
    rows.push(
      row(
        'whole stream p99 (ms)',
        pick(all, (s) => burst(s)?.totalP99),
        all,
        1,
      ),
    )
    rows.push(
      row(
        'peak RSS, fresh process (MB)',
        pick(proxies, (s) => burst(s)?.peakRssMb),
        proxies,
        0,
        '≤ 200 MB',
        most(() => 200),
      ),
    )
  }
  return rows
}

export function verdict(row: Row, system: 'node' | 'bun'): string {
  const value = row.values[system]
  if (!row.bound) return ''
  if (row.errors.has(system)) return 'MISS (errors)'
  const bound = row.bound.value(row.values)
  if (value === undefined || !Number.isFinite(value) || !Number.isFinite(bound)) return 'n/a'
  return (row.bound.at === 'most' ? value <= bound : value >= bound) ? 'PASS' : 'MISS'
}

export function renderRows(title: string, rows: Row[]): string {
  const header = [title, 'direct', 'bare proxy', 'gemgate Node', 'gemgate Bun', 'Portkey', 'Node/bare', 'Node/Portkey', 'Bun/bare', 'target', 'Node', 'Bun']
  const lines = rows.map((row) => {
    const cell = (s: SystemName) => {
      const v = row.values[s]
      if (v === undefined || !Number.isFinite(v)) return row.applies.includes(s) ? 'n/a' : '—'
      return row.format ? row.format(v) : v.toFixed(row.digits)
    }
    const ratio = (a: SystemName, b: SystemName) => {
      const [x, y] = [row.values[a], row.values[b]]
      return x !== undefined && y !== undefined && y > 0 && Number.isFinite(x / y) ? `${(x / y).toFixed(2)}x` : ''
    }
    return [
      row.metric,
      ...COLUMNS.map(cell),
      ratio('node', 'bare'),
      ratio('node', 'portkey'),
      ratio('bun', 'bare'),
      row.target,
      verdict(row, 'node'),
      verdict(row, 'bun'),
    ]
  })
  return table(header, lines)
}

export function renderSoak(soak: NonNullable<Results['soak']>): string {
  const { settings: s, results } = soak
  const header = [
    `soak: ${s.minutes} min at ${s.rps} req/s each`,
    'sent',
    'ok',
    'failed',
    'behind',
    'p50 (ms)',
    'p99 (ms)',
    'RSS middle third (MB)',
    'RSS last third (MB)',
    'growth',
    'target',
    'verdict',
  ]
  const lines = results.map((r) => [
    r.label,
    String(r.sent),
    String(r.ok),
    String(r.failed),
    String(r.behind),
    r.p50.toFixed(1),
    r.p99.toFixed(1),
    r.middleMb.toFixed(1),
    r.lastMb.toFixed(1),
    `${(r.growth * 100).toFixed(1)}%`,
    `flat: ≤ +${(s.tolerance * 100).toFixed(0)}%`,
    r.failed > 0 ? 'MISS (errors)' : r.flat ? 'PASS (flat)' : 'MISS (growing)',
  ])
  return table(header, lines)
}

export function table(header: string[], lines: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...lines.map(line)].join('\n')
}

/** Every throughput whose repeats disagree by more than `limit` (0.2 = 20%): the machine was too noisy to trust it. */
export function disagreements(r: Results, extra: [string, RepeatedThroughput][], limit: number): string[] {
  const all = [...extra]
  for (const kind of ['unary', 'stream'] as const) {
    for (const [id, cell] of r.kinds[kind]) if (cell.throughput) all.push([`${kind} ${id}`, cell.throughput])
  }
  return all
    .filter(([, t]) => t.runs.length > 1 && t.spread > limit)
    .map(([what, t]) => `${what}: ${t.runs.map((x) => Math.round(x)).join(' vs ')} req/s (${(t.spread * 100).toFixed(0)}% apart)`)
}
