import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KEYS, post, startGateway, userText, type Running } from './harness.ts'

const GENERATE = '/v1beta/models/gemini-2.5-flash:generateContent'
const [K1, K2, K3] = KEYS as [string, string, string]

describe('key strategies, changed live in the console', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ env: { MAX_RETRIES: '3' } })
  })
  afterAll(() => gw.close())
  const send = () => post(gw, GENERATE, userText('x'))

  it('least-in-flight, set live in the console: while the first key is busy with a slow answer, the next requests go to the others', async () => {
    // Set where the console sets it (what the environment or the harness's config sets, the console cannot change).
    expect((await gw.gateway.control.settings.save({ keyStrategy: 'least-in-flight' })).errors).toEqual({})
    gw.reset()
    gw.upstream.setBehaviour(K1, 'slow', { slowMs: 1_500, times: 1 })
    const slow = send()
    await sleep(200)
    for (let i = 0; i < 4; i++) expect((await send()).status).toBe(200)
    expect((await slow).status).toBe(200)
    const used = gw.keysUsed()
    expect(used[0]).toBe(K1)
    // Rotation would have sent one of these four to the busy key.
    expect(new Set(used.slice(1))).toEqual(new Set([K2, K3]))
  })

  it('weighted: the pool’s weight 0 and one key’s 1 send everything to that key first', async () => {
    gw.reset()
    const result = await gw.gateway.control.settings.save({ keyStrategy: 'weighted', keyWeights: { gemini: 0, [gw.gateway.idOf(K3)]: 1 } })
    expect(result.errors).toEqual({})
    for (let i = 0; i < 6; i++) expect((await send()).status).toBe(200)
    expect(new Set(gw.keysUsed())).toEqual(new Set([K3]))
    // Its failure sends the request on to the keys of weight 0.
    gw.upstream.setBehaviour(K3, 'internal', { times: 1 })
    expect((await send()).status).toBe(200)
    expect(gw.keysUsed().at(-1)).not.toBe(K3)
  })

  it('adaptive: a failing key gets far less than its share of first attempts', async () => {
    await gw.gateway.control.settings.save({ keyStrategy: 'adaptive', keyWeights: null })
    gw.reset()
    gw.upstream.setBehaviour(K1, 'internal')
    for (let i = 0; i < 60; i++) expect((await send()).status).toBe(200)
    const failing = gw.upstream.requests.filter((request) => request.key === K1).length
    // Rotation would send it every third request; adaptive, after it learnt, about one in thirty.
    expect(failing).toBeLessThan(12)
    expect(gw.keysUsed().filter((key) => key === K2).length).toBeGreaterThan(15)
  })

  it('a bad strategy or weight is refused with the field named', async () => {
    const result = await gw.gateway.control.settings.save({ keyStrategy: 'fastest', keyWeights: { gemini: -1 } })
    expect(Object.keys(result.errors).sort()).toEqual(['keyStrategy', 'keyWeights'])
  })
})
