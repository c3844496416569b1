import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KEYS, startGateway, type Running } from '../../test/e2e/harness.ts'
import admin from './index.ts'
import { databaseEnv, expectNoSecret, fakeKey, login, type ConsoleClient } from './test-client.ts'

interface KeyRow {
  id: string
  label: string
  pool: string
  source: string
  state: string
  strikes: number
  usage: { requests: number; failures: number; totalTokens: number }
}

/** The keys page's API and gemini-balance's key routes, against the fake upstream. */
describe.each(['sqlite', 'mysql'] as const)('console keys API on %s', (backend) => {
  let gw: Running
  let client: ConsoleClient
  // Keys added through the console live in the database by design: they are not configured secrets.
  const added = [fakeKey('added-one'), fakeKey('added-two')]
  const ids: Record<string, string> = {}
  let database: Awaited<ReturnType<typeof databaseEnv>>
  beforeAll(async () => {
    database = await databaseEnv(backend)
    gw = await startGateway({ env: database.env, config: { plugins: [admin()] } })
    client = await login(gw)
  })
  afterAll(async () => {
    await gw.close()
    await database.drop()
  })
  beforeEach(() => gw.reset())

  const list = (query = '') =>
    client.json<{ items: KeyRow[]; total: number; page: number; pages: number; counts: Record<string, number>; pools: string[] }>('GET', `/api/keys${query}`)

  it('adds the keys found in pasted text, dropping repeats and keys already held', async () => {
    const text = `API_KEYS=["${added[0]}",\n "${added[1]}"]\n# again: ${added[0]} and a near miss AIzaTooShort`
    const answer = await client.json('POST', '/api/keys', { text })
    expect(answer).toMatchObject({ found: 3, duplicates: 1 })
    expect(answer.added).toHaveLength(2)
    for (const view of answer.added as KeyRow[]) {
      expect(view).toMatchObject({ pool: 'gemini', source: 'console', state: 'healthy' })
      ids[added.find((key) => key.endsWith(view.label.slice(-4)))!] = view.id
    }
    expectNoSecret(JSON.stringify(answer), added)
    const again = await client.json('POST', '/api/keys', { text: added.join(' ') })
    expect(again).toEqual({ added: [], duplicates: 2, found: 2 })
  })

  it('refuses text without a key and bad bodies, naming the field and not repeating the text', async () => {
    const none = await client.call('POST', '/api/keys', { text: `nothing here but ${KEYS[0]}` })
    expect(none.status).toBe(400)
    const body = await none.text()
    expect(JSON.parse(body).error.fields).toEqual({ text: 'has no key in it' })
    expectNoSecret(body)
    for (const bad of [{}, { text: 42 }, { text: added[0], pool: 'Bad Pool!' }]) {
      const response = await client.call('POST', '/api/keys', bad)
      expect(response.status).toBe(400)
      expect(Object.keys((await response.json()).error.fields).length).toBeGreaterThan(0)
    }
    const broken = await client.call('POST', '/api/keys', undefined, { 'content-type': 'application/json' })
    expect(broken.status).toBe(400)
  })

  it('lists keys masked, with counts, pools, search, state filter, sorting and pages', async () => {
    const all = await list()
    expect(all.total).toBe(5)
    expect(all.counts).toEqual({ all: 5, healthy: 5, cooling: 0, disabled: 0 })
    expect(all.pools).toEqual(['gemini'])
    expect(all.items.every((row) => row.label.includes('...') && row.usage.requests === 0)).toBe(true)
    expectNoSecret(JSON.stringify(all), added)

    const paged = await list('?limit=2&page=3&sort=label&order=desc')
    expect(paged).toMatchObject({ total: 5, page: 3, pages: 3 })
    expect(paged.items).toHaveLength(1)
    const labels = (await list('?sort=label&order=desc')).items.map((row) => row.label)
    expect(labels).toEqual(labels.toSorted().reverse())

    const byId = await list(`?search=${ids[added[0]!]!.slice(0, 12)}`)
    expect(byId.items.map((row) => row.id)).toEqual([ids[added[0]!]])
    expect((await list('?state=disabled')).items).toEqual([])
  })

  it('refuses bad list parameters with the field named', async () => {
    for (const [query, field] of [
      ['?limit=0', 'limit'],
      ['?limit=501', 'limit'],
      ['?page=abc', 'page'],
      ['?state=broken', 'state'],
      ['?sort=secret', 'sort'],
      ['?order=up', 'order'],
    ] as const) {
      const response = await client.call('GET', `/api/keys${query}`)
      expect(response.status, query).toBe(400)
      expect(Object.keys((await response.json()).error.fields), query).toEqual([field])
    }
  })

  it('verifies keys: an invalid one is disabled with Google’s reason (masked), a good one stays healthy', async () => {
    const [bad, good] = added as [string, string]
    gw.upstream.setBehaviour(bad, 'invalid-key')
    const { results } = await client.json('POST', '/api/keys/verify', { ids: [ids[bad], ids[good]] })
    expect(results).toMatchObject([
      { id: ids[bad], ok: false, class: 'invalid-key', state: 'disabled' },
      { id: ids[good], ok: true, class: 'ok', state: 'healthy' },
    ])
    expectNoSecret(JSON.stringify(results), added)
    const disabled = await list('?state=disabled')
    expect(disabled.items.map((row) => row.id)).toEqual([ids[bad]])
    expect(disabled.counts).toMatchObject({ disabled: 1, healthy: 4 })

    // The detail page of that key: its state, traffic and the error of the probe.
    const detail = await client.json('GET', `/api/keys/${ids[bad]}`)
    expect(detail).toMatchObject({ id: ids[bad], state: 'disabled', periods: { hour: expect.any(Object), day: expect.any(Object), month: expect.any(Object) } })
    expect(Array.isArray(detail.models) && Array.isArray(detail.recentErrors)).toBe(true)
    expect((await client.call('GET', '/api/keys/no-such-id')).status).toBe(404)

    gw.upstream.reset()
    expect(await client.json('POST', '/api/keys/reset', { ids: [ids[bad], 'gone'] })).toEqual({ done: [ids[bad]], notFound: ['gone'], refused: [] })
    expect((await client.json('GET', `/api/keys/${ids[bad]}`)).state).toBe('healthy')
  })

  it('disables and enables keys by id or all at once', async () => {
    const id = ids[added[1]!]!
    expect((await client.json('POST', '/api/keys/disable', { ids: [id], reason: 'testing' })).done).toEqual([id])
    expect((await client.json('GET', `/api/keys/${id}`)).disabled).toMatchObject({ reason: 'testing' })
    const enabled = await client.json('POST', '/api/keys/enable', { all: true })
    expect(enabled.done).toHaveLength(5)
    expect((await client.json('GET', `/api/keys/${id}`)).state).toBe('healthy')
    for (const bad of [{}, { ids: [] }, { ids: 'x' }, { all: false }]) expect((await client.call('POST', '/api/keys/enable', bad)).status).toBe(400)
  })

  it('reveals the keys asked for, and only them', async () => {
    const id = ids[added[0]!]!
    expect(await client.json('POST', '/api/keys/reveal', { ids: [id, 'unknown'] })).toEqual({ keys: { [id]: added[0] } })
  })

  it('answers gemini-balance’s key routes behind the session, keys masked', async () => {
    const [one, two] = added as [string, string]
    gw.upstream.setBehaviour(two, 'invalid-key')
    expect(await client.json('POST', `/gemini/v1beta/verify-key/${one}`)).toEqual({ status: 'valid', key: expect.stringContaining('...'), id: ids[one] })
    const invalid = await client.json('POST', `/gemini/v1beta/verify-key/${two}`)
    expect(invalid).toMatchObject({ status: 'invalid', id: ids[two], error: expect.any(String) })
    const unknown = fakeKey('never-added')
    const missing = await client.call('POST', `/gemini/v1beta/verify-key/${unknown}`)
    expect(missing.status).toBe(404)
    expect(await missing.text()).not.toContain(unknown)

    const selected = await client.json('POST', '/gemini/v1beta/verify-selected-keys', { keys: [one, two, unknown] })
    expect(selected).toMatchObject({ success: true, valid_count: 1, invalid_count: 2 })
    expect(selected.successful_keys).toHaveLength(1)
    expect(Object.values(selected.failed_keys)).toContainEqual({ error_message: 'No pool holds this key.', error_code: 404 })
    expectNoSecret(JSON.stringify(selected), [one, two, unknown])

    // gemini-balance's keys page: invalid keys with their failure counts, masked.
    const invalidKeys = await client.json('GET', '/api/keys?status=invalid&limit=10')
    expect(invalidKeys).toMatchObject({ total_items: 1, total_pages: 1, current_page: 1 })
    expect(Object.keys(invalidKeys.keys)).toEqual([invalidKeys.items[0].label])
    expect((await client.json('GET', '/api/keys?status=valid')).total_items).toBe(4)
    expect((await client.json('GET', '/api/keys?fail_count_threshold=1')).total_items).toBe(0)
    const all = await client.json('GET', '/api/keys/all')
    expect(all).toMatchObject({ total_count: 5, invalid_keys: [expect.stringContaining('...')] })
    expect(all.valid_keys).toHaveLength(4)
    expectNoSecret(JSON.stringify(all), added)

    expect(await client.json('POST', '/gemini/v1beta/reset-all-fail-counts?key_type=invalid')).toMatchObject({ success: true, reset_count: 1 })
    expect((await client.json('GET', `/api/keys/${ids[two]}`)).state).toBe('healthy')
    expect(await client.json('POST', `/gemini/v1beta/reset-fail-count/${one}`)).toMatchObject({ success: true })
    const partial = await client.call('POST', '/gemini/v1beta/reset-selected-fail-counts', { keys: [one, unknown] })
    expect(partial.status).toBe(207)
    expect(await partial.json()).toMatchObject({ success: false, reset_count: 1, not_found_keys: [expect.stringContaining('...')] })
    expect((await client.call('POST', '/gemini/v1beta/reset-selected-fail-counts', { keys: [] })).status).toBe(400)
    expect((await client.call('POST', '/gemini/v1beta/reset-all-fail-counts?key_type=bogus')).status).toBe(400)
  })

  it('deletes console keys; configured ones are refused with the reason (also through gemini-balance’s routes)', async () => {
    const configured = (await list()).items.find((row) => row.source === 'config')!
    const result = await client.json('POST', '/api/keys/delete', { ids: [ids[added[0]!], configured.id] })
    expect(result.done).toEqual([ids[added[0]!]])
    expect(result.refused).toEqual([{ id: configured.id, reason: expect.stringContaining('API_KEYS') }])
    expect((await list()).total).toBe(4)

    const [, two] = added as [string, string]
    expect(await client.json('DELETE', `/api/config/keys/${two}`)).toMatchObject({ success: true })
    expect((await client.call('DELETE', `/api/config/keys/${two}`)).status).toBe(404)
    const none = await client.call('POST', '/api/config/keys/delete-selected', { keys: [KEYS[0], fakeKey('never')] })
    expect(none.status).toBe(400)
    const body = await none.json()
    expect(body).toMatchObject({ success: false, deleted_count: 0, not_found_keys: [expect.stringContaining('...')] })
    expect(Object.values(body.refused_keys)).toEqual([expect.stringContaining('API_KEYS')])
    expectNoSecret(JSON.stringify(body))
  })
})
