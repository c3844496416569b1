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
