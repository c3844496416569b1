import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KEYS, post, startGateway, userText, type Running } from '../../test/e2e/harness.ts'
import admin from './index.ts'
import { databaseEnv, expectNoSecret, login, type ConsoleClient } from './test-client.ts'

const MODEL = 'gemini-2.5-flash'

/** The dashboard's statistics and the log pages, over real traffic through the gateway and the fake upstream. */
describe.each(['sqlite', 'mysql'] as const)('console statistics and logs API on %s', (backend) => {
  let gw: Running
  let client: ConsoleClient
  let database: Awaited<ReturnType<typeof databaseEnv>>
  beforeAll(async () => {
    database = await databaseEnv(backend)
    gw = await startGateway({ env: database.env, config: { plugins: [admin()] } })
    client = await login(gw)
    // One key is refused by Google: its request fails over to another key, it is disabled and its error is logged.
    gw.upstream.setBehaviour(KEYS[0]!, 'invalid-key')
    for (let i = 0; i < 6; i++) expect((await post(gw, `/v1beta/models/${MODEL}:generateContent`, userText(`hello ${i}`))).status).toBe(200)
    await gw.gateway.logs.flush()
  })
  afterAll(async () => {
    await gw.close()
    await database.drop()
  })

  it('overview: traffic per window, key states, latency, the keys needing a look, and key events', async () => {
    const overview = await client.json('GET', '/api/stats/overview')
    expect(overview.windows.minute.requests).toBeGreaterThanOrEqual(7)
    expect(overview.windows.day.failures).toBeGreaterThanOrEqual(1)
    expect(overview.windows.month.requests).toBe(overview.windows.day.requests)
    expect(overview.keys).toEqual({ total: 3, healthy: 2, cooling: 0, disabled: 1 })
    expect(overview.latency.count).toBeGreaterThanOrEqual(7)
    expect(overview.attention[0]).toMatchObject({ state: 'disabled', usage: { failures: 1 } })
    expect(overview.events).toContainEqual(expect.objectContaining({ kind: 'disabled', keyId: overview.attention[0].id }))
    expect(overview.cooldowns).toEqual([])
    expectNoSecret(JSON.stringify(overview))
  })

  it('series, usage by key, model and token, and key events', async () => {
    const series = await client.json('GET', '/api/stats/series?range=1h')
    expect(series.bucketMs).toBe(60_000)
    expect(series.points.reduce((sum: number, point: { requests: number }) => sum + point.requests, 0)).toBeGreaterThanOrEqual(7)
    expect((await client.json('GET', '/api/stats/series?range=30d')).bucketMs).toBe(86_400_000)

    const byKey = await client.json('GET', '/api/stats/usage?by=key&range=24h')
    expect(byKey.length).toBeGreaterThanOrEqual(2)
    expect(byKey.every((row: { label: string; id: string }) => row.label.includes('...') && row.label !== row.id)).toBe(true)
    const byModel = await client.json('GET', '/api/stats/usage?by=model')
    expect(byModel[0]).toMatchObject({ id: MODEL, label: MODEL })
    const byToken = await client.json('GET', '/api/stats/usage?by=token&limit=1')
    expect(byToken).toHaveLength(1)
    expect(byToken[0].label).not.toBe(byToken[0].id)
    expectNoSecret(JSON.stringify([byKey, byToken]))

    const events = await client.json('GET', '/api/events?after=0')
    expect(events.length).toBeGreaterThanOrEqual(1)
    expect(await client.json('GET', `/api/events?after=${events.at(-1).id}`)).toEqual([])
    for (const bad of ['/api/stats/series?range=1y', '/api/stats/usage?by=secret', '/api/stats/usage?limit=0', '/api/events?after=-1']) {
      expect((await client.call('GET', bad)).status, bad).toBe(400)
    }
  })

  it('gemini-balance’s call details and attention keys, keys masked', async () => {
    const details = await client.json('GET', '/api/stats/details?period=1h')
    expect(details.length).toBeGreaterThanOrEqual(7)
    expect(details.find((row: { status: string }) => row.status === 'failure')).toMatchObject({
      status_code: 400,
      model: MODEL,
      key: expect.stringContaining('...'),
    })
    expect((await client.call('GET', '/api/stats/details?period=2h')).status).toBe(400)
    const attention = await client.json('GET', '/api/stats/attention-keys?status_code=400&limit=5')
    expect(attention).toEqual([{ key: expect.stringContaining('...'), id: expect.any(String), count: 1, status_code: 400 }])
    expect(await client.json('GET', '/api/stats/attention-keys')).toEqual([])
    expectNoSecret(JSON.stringify([details, attention]))
  })

  it('request log: filtered, paged by id, rows named; a failed row leads to its error', async () => {
    const page = await client.json('GET', '/api/logs/requests?limit=3')
    expect(page.items).toHaveLength(3)
    expect(page.total).toBeGreaterThanOrEqual(7)
    expect(page.items[0]).toMatchObject({ keyLabel: expect.stringContaining('...'), tokenName: expect.any(String), model: MODEL })
    const next = await client.json('GET', `/api/logs/requests?limit=3&before=${page.nextBefore}`)
    expect(next.items[0].id).toBeLessThan(page.items[2].id)

    const failed = await client.json('GET', '/api/logs/requests?status=400')
    expect(failed.items).toHaveLength(1)
    const detail = await client.json('GET', `/api/logs/requests/${failed.items[0].id}`)
    expect(detail.entry.id).toBe(failed.items[0].id)
    expect(detail.error).toMatchObject({ status: 400, failureClass: 'invalid-key', keyLabel: expect.stringContaining('...') })
    expect(
      (await client.json('GET', `/api/logs/requests?model=${MODEL}&from=${Date.now() - 60_000}&to=${new Date(Date.now() + 1000).toISOString()}`)).total,
    ).toBe(page.total)
    expect((await client.json('GET', '/api/logs/requests?model=other')).items).toEqual([])
    for (const bad of ['?from=yesterday', '?limit=0', '?status=abc', '?before=-1'])
      expect((await client.call('GET', `/api/logs/requests${bad}`)).status, bad).toBe(400)
    expect((await client.call('GET', '/api/logs/requests/999999')).status).toBe(404)
    expect((await client.call('GET', '/api/logs/requests/abc')).status).toBe(400)
    expectNoSecret(JSON.stringify([page, detail]))
  })

  it('error log: our filters and gemini-balance’s, detail with Google’s body (key masked)', async () => {
    const page = await client.json('GET', '/api/logs/errors?class=invalid-key')
    expect(page.items).toHaveLength(1)
    const row = page.items[0]
    const detail = await client.json('GET', `/api/logs/errors/${row.id}`)
    expect(detail).toMatchObject({ id: row.id, status: 400, keyLabel: row.keyLabel, errorBody: expect.stringContaining('API_KEY_INVALID') })
    const compat = await client.json('GET', '/api/logs/errors?limit=10&offset=0&error_code_search=400&sort_order=desc')
    expect(compat).toEqual({
      total: 1,
      logs: [expect.objectContaining({ id: row.id, gemini_key: row.keyLabel, error_code: 400, error_type: 'invalid-key', model_name: MODEL })],
    })
    expect((await client.json('GET', '/api/logs/errors?offset=1')).logs).toEqual([])
    expect((await client.json('GET', `/api/logs/errors/${row.id}/details`)).error_log).toBe(detail.errorBody)
    expect((await client.call('GET', '/api/logs/errors?key_search=...')).status).toBe(400) // every label matches: too vague
    expect((await client.json('GET', `/api/logs/errors?key_search=${row.keyId.slice(0, 10)}`)).total).toBe(1)
    expect((await client.json('GET', '/api/logs/errors?key_search=zzzz-no-such')).total).toBe(0)
    expectNoSecret(JSON.stringify([page, detail, compat]))
  })

  it('deletes log rows: selected, one, or all', async () => {
    const errors = await client.json('GET', '/api/logs/errors')
    expect(await client.json('DELETE', '/api/logs/errors', { ids: [errors.items[0].id] })).toEqual({ deleted: 1 })
    expect((await client.call('DELETE', `/api/logs/errors/${errors.items[0].id}`)).status).toBe(404)
    expect((await client.call('DELETE', '/api/logs/errors/all')).status).toBe(204)
    const requests = await client.json('GET', '/api/logs/requests')
    expect(await client.json('DELETE', '/api/logs/requests', { ids: [requests.items[0].id, String(requests.items[1].id)] })).toEqual({ deleted: 2 })
    expect((await client.json('DELETE', '/api/logs/requests', { all: true })).deleted).toBe(requests.total - 2)
    for (const bad of [{}, { ids: [] }, { ids: ['x'] }, { all: 'yes' }]) expect((await client.call('DELETE', '/api/logs/requests', bad)).status).toBe(400)
  })
})
