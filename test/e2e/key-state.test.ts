import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeUpstream, type FakeUpstream } from '../fake-upstream/index.ts'
import { REDIS_URL } from '../storage/backends.ts'
import { post, startGateway, userText } from './harness.ts'

/** Key health lives in unstorage: with REDIS_URL it survives a restart (and is there for other instances). */
describe('key state in Redis', () => {
  let upstream: FakeUpstream
  // Keys unique to this run, so parallel runs on the same Redis never see each other's state.
  const keys = [1, 2, 3].map((i) => `AIzaSy-redis-${randomBytes(6).toString('hex')}-${i}`)
  // One deployment: both starts share the database (DATA_DIR), hence the deployment secret and the key ids.
  const env = { REDIS_URL, API_KEYS: JSON.stringify(keys), MAX_RETRIES: '3', DATA_DIR: mkdtempSync(join(tmpdir(), 'gemgate-redis-')) }

  beforeAll(async () => {
    upstream = await startFakeUpstream()
  })
  afterAll(() => upstream.close())

  it('a disabled key and a cooldown are still there after a restart', async () => {
    upstream.setBehaviour(keys[0]!, 'invalid-key')
    upstream.setBehaviour(keys[1]!, 'rate-minute', { retryDelaySeconds: 50 })
    const first = await startGateway({ env, upstreamInstance: upstream })
    try {
      for (let i = 0; i < 2; i++) expect((await post(first, '/v1beta/models/gemini-2.5-flash:generateContent', userText('x'))).status).toBe(200)
    } finally {
      await first.close()
    }

    const second = await startGateway({ env, upstreamInstance: upstream })
    try {
      const pool = second.gateway.pool
      expect(pool.health(pool.get(second.gateway.idOf(keys[0]!))!).disabled?.reason).toMatch(/invalid/i)
      const cooldown = pool.health(pool.get(second.gateway.idOf(keys[1]!))!).cooldowns['gemini-2.5-flash']
      expect(cooldown!.until - Date.now()).toBeGreaterThan(40_000)
      upstream.reset()
      for (let i = 0; i < 3; i++) await post(second, '/v1beta/models/gemini-2.5-flash:generateContent', userText('x'))
      expect(new Set(upstream.requests.map((r) => r.key))).toEqual(new Set([keys[2]]))
    } finally {
      for (const key of second.gateway.pool.keys) second.gateway.pool.reset(key)
      await second.close()
    }
  })
})
