import { describe, expect, it } from 'vitest'
import type { GatewayConfig } from '../../core/config/schema.ts'
import { KEYS, post, startGateway, userText, type Running } from './harness.ts'

const GENERATE = '/v1beta/models/gemini-2.5-flash:generateContent'
const STREAM = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'
const [K1, K2, K3] = KEYS as [string, string, string]

/** A fresh gateway per test: its rotation starts at the first key, so the test knows which key goes first. */
async function withGateway(env: Record<string, string>, test: (gw: Running) => Promise<void>, config: Partial<GatewayConfig> = {}): Promise<void> {
  const gw = await startGateway({ env: { MAX_RETRIES: '3', ...env }, config })
  try {
    await test(gw)
  } finally {
    await gw.close()
  }
}

async function attemptRows(gw: Running): Promise<Record<string, any>[]> {
  await gw.gateway.logs.flush()
  const { rows } = await gw.gateway.database.db.sql`SELECT * FROM request_logs ORDER BY id`
  return rows as Record<string, any>[]
}

const fixed = { HEDGE_MODE: 'fixed', HEDGE_AFTER_MS: '150' }

describe('hedged requests', () => {
  it('a slow first key is raced by a second; the first answer wins, the loser is cancelled, logged as such and not judged', async () => {
    await withGateway(fixed, async (gw) => {
      gw.upstream.setBehaviour(K1, 'slow', { slowMs: 3_000, times: 1 })
      const started = performance.now()
      const res = await post(gw, GENERATE, userText('x'))
      expect(res.status).toBe(200)
      expect(performance.now() - started).toBeLessThan(1_500)
      expect(gw.keysUsed()).toEqual([K1, K2])
      const [loser, winner] = (await attemptRows(gw)) as [Record<string, any>, Record<string, any>]
      expect(winner).toMatchObject({ attempt: 2, key_id: gw.gateway.idOf(K2), failure_class: 'ok', status: 200 })
      expect(loser).toMatchObject({ attempt: 1, key_id: gw.gateway.idOf(K1), failure_class: 'client-cancelled', request_id: winner.request_id })
      // Its upstream call was cut at once, not waited out.
      expect(Number(loser.latency_ms)).toBeLessThan(1_000)
      const health = gw.gateway.pool.health(gw.gateway.pool.get(gw.gateway.idOf(K1))!)
      expect(health).toEqual({ strikes: 0, cooldowns: {} })
    })
  })

  it('streams too: the second key’s stream is the one the client reads, whole', async () => {
    await withGateway(fixed, async (gw) => {
      gw.upstream.setBehaviour(K1, 'slow', { slowMs: 3_000, times: 1 })
      const res = await post(gw, STREAM, userText('x'))
      const text = await res.text()
      expect(res.status).toBe(200)
      expect(text).toContain('"finishReason"')
      expect(gw.keysUsed()).toEqual([K1, K2])
    })
  })

  it('a second key that fails leaves the race to the first, which still wins', async () => {
    await withGateway(fixed, async (gw) => {
      gw.upstream.setBehaviour(K1, 'slow', { slowMs: 600, times: 1 })
      gw.upstream.setBehaviour(K2, 'internal', { times: 1 })
      expect((await post(gw, GENERATE, userText('x'))).status).toBe(200)
      expect(gw.keysUsed()).toEqual([K1, K2])
      const rows = await attemptRows(gw)
      expect(rows.map((row) => [row.attempt, row.failure_class])).toEqual([
        [1, 'ok'],
        [2, 'upstream-error'],
      ])
    })
  })

  it('p95: the bound is the model’s recent time to first byte', async () => {
    await withGateway({ HEDGE_MODE: 'p95', HEDGE_AFTER_MS: '60000' }, async (gw) => {
      for (let i = 0; i < 21; i++) expect((await post(gw, GENERATE, userText('x'))).status).toBe(200)
      // Keys are picked in turn: the one after the key picked here goes first, the one after it is the hedge's. (Counting
      // requests cannot tell: under load the p95 hedges some of the requests above, and a loser cut early never arrives.)
      const sent = gw.upstream.requests.length
      const picked = KEYS.indexOf(gw.gateway.pool.pick('gemini-2.5-flash')!.secret)
      const [slow, next] = [KEYS[(picked + 1) % 3]!, KEYS[(picked + 2) % 3]!]
      gw.upstream.setBehaviour(slow, 'slow', { slowMs: 3_000, times: 1 })
      const started = performance.now()
      expect((await post(gw, GENERATE, userText('x'))).status).toBe(200)
      expect(performance.now() - started).toBeLessThan(1_500)
      expect(gw.keysUsed().slice(sent)).toEqual([slow, next])
    })
  })

  it('both attempts count toward their keys’ caps', async () => {
    await withGateway(
      fixed,
      async (gw) => {
        gw.upstream.setBehaviour(K1, 'slow', { slowMs: 3_000, times: 1 })
        expect((await post(gw, GENERATE, userText('x'))).status).toBe(200)
        expect((await post(gw, GENERATE, userText('x'))).status).toBe(200)
        expect((await post(gw, GENERATE, userText('x'))).status).toBe(429)
        expect(gw.keysUsed()).toEqual([K1, K2, K3])
      },
      { keyCaps: { rpd: 1 } },
    )
  })

  it('off by default: a slow key is waited for', async () => {
    await withGateway({}, async (gw) => {
      gw.upstream.setBehaviour(K1, 'slow', { slowMs: 700, times: 1 })
      const started = performance.now()
      expect((await post(gw, GENERATE, userText('x'))).status).toBe(200)
      expect(performance.now() - started).toBeGreaterThan(650)
      expect(gw.keysUsed()).toEqual([K1])
    })
  })
})
