// DESIGN.md's stream budget: 2,048 concurrent 64-chunk streams all complete; added time-to-first-chunk p99 ≤ 1.5x
// the bare proxy's; the gateway's peak RSS ≤ 200 MB. All streams are opened at once, each on its own connection.
import { Agent } from 'undici'
import { percentile, type RequestSpec } from './measure.ts'

export interface BurstResult {
  completed: number
  failed: number
  firstP50: number
  firstP99: number
  totalP99: number
  failureSamples: string[]
}

export async function measureBurst(spec: RequestSpec, streams: number): Promise<BurstResult> {
  const agent = new Agent({ connections: null, keepAliveTimeout: 1_000, headersTimeout: 60_000, bodyTimeout: 60_000 })
  const first: number[] = []
  const total: number[] = []
  const failureSamples: string[] = []
  let failed = 0
  try {
    await Promise.all(
      Array.from({ length: streams }, async () => {
        const started = performance.now()
        try {
          const res = await agent.request({ origin: spec.origin, path: spec.path, method: 'POST', headers: spec.headers, body: spec.body })
          let seenFirst = false
          for await (const _ of res.body) {
            if (!seenFirst) {
              seenFirst = true
              first.push(performance.now() - started)
            }
          }
          if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
          total.push(performance.now() - started)
        } catch (error) {
          failed++
          if (failureSamples.length < 3) failureSamples.push(String((error as Error).message ?? error))
        }
      }),
    )
  } finally {
    await agent.close()
  }
  return {
    completed: total.length,
    failed,
    firstP50: percentile(first, 0.5),
    firstP99: percentile(first, 0.99),
    totalP99: percentile(total, 0.99),
    failureSamples,
  }
}

export function renderBurstTable(streams: number, r: { direct: BurstResult; bare: BurstResult; gateway: BurstResult }, gatewayRssMb: number): string {
  const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a')
  const addedBare = r.bare.firstP99 - r.direct.firstP99
  const addedGateway = r.gateway.firstP99 - r.direct.firstP99
  const allDone = r.gateway.completed === streams && r.bare.completed === streams
  const rows = [
    ['streams completed', `${r.direct.completed}/${streams}`, `${r.bare.completed}/${streams}`, `${r.gateway.completed}/${streams}`, 'all', allDone ? 'PASS' : 'MISS'],
    ['first chunk p50 (ms)', ms(r.direct.firstP50), ms(r.bare.firstP50), ms(r.gateway.firstP50), '', ''],
    ['first chunk p99 (ms)', ms(r.direct.firstP99), ms(r.bare.firstP99), ms(r.gateway.firstP99), '', ''],
    ['added first chunk p99 (ms)', '—', ms(addedBare), ms(addedGateway), "≤ 1.5x bare's", addedGateway <= 1.5 * Math.max(addedBare, 0) ? 'PASS' : 'MISS'],
    ['whole stream p99 (ms)', ms(r.direct.totalP99), ms(r.bare.totalP99), ms(r.gateway.totalP99), '', ''],
    ['gateway peak RSS (MB)', '—', '—', String(Math.round(gatewayRssMb)), '≤ 200', gatewayRssMb <= 200 ? 'PASS' : 'MISS'],
  ]
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  const header = [`${streams} concurrent 64-chunk streams`, 'direct', 'bare proxy', 'gateway', 'target', 'PASS/MISS']
  const notes = (['direct', 'bare', 'gateway'] as const)
    .filter((t) => r[t].failed > 0)
    .map((t) => `- PROBLEM ${t}: ${r[t].failed} stream(s) failed, e.g. ${r[t].failureSamples.join(' || ')}`)
  return ['', line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line), ...notes].join('\n')
}
