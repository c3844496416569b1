import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEPLOYMENT_SECRET_SETTING,
  createKeyStore,
  createLogQueries,
  createSettingsStore,
  createStatsQueries,
  createTokenStore,
  openDatabaseWhenReachable,
  type GatewayDatabase,
  type StoredToken,
} from '../../storage/index.ts'
import { backends, count, storedToken, type Backend } from './backends.ts'

// Stand-ins shaped like real keys; the console stores pasted keys in the database by design.
const key = (n: number) => `AIza${String(n).padStart(35, 'x')}`
const VERTEX = `AQ.${'v'.repeat(60)}`

const token = (n: number, extra?: Partial<StoredToken>) => storedToken('tok', n, extra)

describe.each(backends())('console stores on $name', (backend: Backend) => {
  let database: GatewayDatabase

  beforeAll(async () => {
    await backend.setup()
    database = await backend.open()
  })
  afterAll(async () => {
    await database?.close()
    await backend.teardown()
  })

  it('keys: add skips duplicates (in the call, already stored), per pool; list; remove counts what was stored', async () => {
    const keys = createKeyStore(database)
    const first = await keys.add('gemini', [key(1), key(2), key(1)])
    expect(first.map((k) => k.secret)).toEqual([key(1), key(2)])
    expect(first.every((k) => k.pool === 'gemini' && Math.abs(k.addedAt - Date.now()) < 60_000)).toBe(true)
    expect((await keys.add('gemini', [key(2), key(3)])).map((k) => k.secret)).toEqual([key(3)])
    // The same secret in another pool is another key; pool names are compared exactly.
    expect((await keys.add('vertex-express', [VERTEX, key(1)])).map((k) => k.secret)).toEqual([VERTEX, key(1)])
    expect((await keys.add('Gemini', [key(1)])).map((k) => k.secret)).toEqual([key(1)])
    expect(await keys.add('gemini', [])).toEqual([])
    const listed = await keys.list()
    expect(listed.map((k) => `${k.pool}:${k.secret}`)).toEqual([
      `gemini:${key(1)}`,
      `gemini:${key(2)}`,
      `gemini:${key(3)}`,
      `vertex-express:${VERTEX}`,
      `vertex-express:${key(1)}`,
      `Gemini:${key(1)}`,
    ])
    expect(listed[0]!.addedAt).toBe(first[0]!.addedAt)
    expect(await keys.remove('gemini', [key(1), key(9), key(1)])).toBe(1)
    expect(await keys.remove('vertex-express', [VERTEX])).toBe(1)
    expect((await keys.list()).map((k) => k.secret)).toEqual([key(2), key(3), key(1), key(1)])
    await expect(keys.add('', [key(1)])).rejects.toThrow(/pool/)
    await expect(keys.add('gemini', [''])).rejects.toThrow(/key/)
    await expect(keys.add('gemini', ['x'.repeat(5000)])).rejects.toThrow(/key/)
  })

  it('keys: a paste of 1 200 keys goes in bounded batches', async () => {
    const keys = createKeyStore(database)
    const many = Array.from({ length: 1200 }, (_, i) => key(10_000 + i))
    expect(await keys.add('bulk', many)).toHaveLength(1200)
    expect(await keys.add('bulk', many)).toHaveLength(0)
    expect(await keys.remove('bulk', many)).toBe(1200)
  })

  it('tokens: add, list in creation order, enable and disable, remove; ids and hashes stay unique', async () => {
    const tokens = createTokenStore(database)
    await tokens.add(token(2))
    await tokens.add(token(1, { enabled: false, sha256: 'B'.repeat(64) }))
    expect(await tokens.list()).toEqual([token(1, { enabled: false, sha256: 'b'.repeat(64) }), token(2)])
    await expect(tokens.add(token(2, { id: 'tok-x' }))).rejects.toThrow(/stored already/)
    await expect(tokens.add(token(3, { sha256: 'not hex' }))).rejects.toThrow(/sha256/)
    await expect(tokens.add(token(3, { name: '' }))).rejects.toThrow(/name/)
    expect(await tokens.setEnabled('tok-1', true)).toBe(true)
    expect(await tokens.setEnabled('tok-1', true)).toBe(true) // already so: still found
    expect(await tokens.setEnabled('tok-2', false)).toBe(true)
    expect(await tokens.setEnabled('tok-404', false)).toBe(false)
    expect((await tokens.list()).map((t) => [t.id, t.enabled])).toEqual([
      ['tok-1', true],
      ['tok-2', false],
    ])
    expect(await tokens.remove(['tok-1', 'tok-404', 'tok-1'])).toBe(1)
    expect((await tokens.list()).map((t) => t.id)).toEqual(['tok-2'])
    expect(await count(database, 'client_tokens')).toBe(1)
  })

  it('settings: JSON values by config path, upserted; the gateway’s own rows are neither loaded nor touched', async () => {
    const settings = createSettingsStore(database)
    const own = (await database.db.prepare('SELECT COUNT(*) AS n FROM settings WHERE name = ?').get(DEPLOYMENT_SECRET_SETTING)) as { n: unknown }
    await database.db.prepare('INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)').run('_gateway_row', 'x', 1)
    await settings.save({ maxRetries: 3, 'plugins.search.models': ['gemini-2.5-flash'], 'streamOptimizer.enabled': false, proxy: null, note: 'a "quoted" ü' })
    await settings.save({ maxRetries: 5 })
    expect(await settings.load()).toEqual({
      maxRetries: 5,
      'plugins.search.models': ['gemini-2.5-flash'],
      'streamOptimizer.enabled': false,
      proxy: null,
      note: 'a "quoted" ü',
    })
    await settings.remove(['proxy', 'note', 'unknown'])
    expect(Object.keys(await settings.load()).sort()).toEqual(['maxRetries', 'plugins.search.models', 'streamOptimizer.enabled'])
    await expect(settings.save({ _gateway_row: 'y' })).rejects.toThrow(/belong to the gateway/)
    await expect(settings.remove(['_gateway_row'])).rejects.toThrow(/belong to the gateway/)
    await expect(settings.save({ big: 'x'.repeat(70_000) })).rejects.toThrow(/larger/)
    await expect(settings.save({ nothing: undefined })).rejects.toThrow(/JSON/)
    // Nothing of a refused save was written, and a value written by hand that is not JSON reads as its text.
    await database.db.prepare('INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)').run('handWritten', 'plain text', 1)
    expect(await settings.load()).toMatchObject({ handWritten: 'plain text', maxRetries: 5 })
    expect(await database.db.prepare('SELECT value FROM settings WHERE name = ?').get('_gateway_row')).toEqual({ value: 'x' })
    expect(await database.db.prepare('SELECT COUNT(*) AS n FROM settings WHERE name = ?').get(DEPLOYMENT_SECRET_SETTING)).toEqual(own)
  })

  it('settings: the version moves on every touch (two at once included) and is never loaded as a setting', async () => {
    const settings = createSettingsStore(database)
    const before = await settings.version()
    await settings.touch()
    const once = await settings.version()
    expect(once).not.toBe(before)
    await Promise.all([settings.touch(), createSettingsStore(database).touch()])
    expect(await settings.version()).not.toBe(once)
    expect(Object.keys(await settings.load()).some((name) => name.startsWith('_'))).toBe(false)
  })

  it('a failing query throws an Error that names the store and what it was doing', async () => {
    const keys = createKeyStore(database)
    await database.db.exec(backend.name === 'mysql' ? 'RENAME TABLE api_keys TO api_keys_away' : 'ALTER TABLE api_keys RENAME TO api_keys_away')
    try {
      await expect(keys.list()).rejects.toThrow(/^storage: keys: list keys failed: .*api_keys/)
    } finally {
      await database.db.exec(backend.name === 'mysql' ? 'RENAME TABLE api_keys_away TO api_keys' : 'ALTER TABLE api_keys_away RENAME TO api_keys')
    }
    const closed = await backend.open()
    await closed.close()
    await expect(createTokenStore(closed).list()).rejects.toThrow(/storage: tokens: list tokens failed: the database is closed/)
  })

  // A MySQL server down at start: the handle comes back unready; every store waits for it, within a bound.
  if (backend.name === 'mysql')
    it('stores wait for a database that is not reachable yet, then answer; or fail clearly after readyTimeoutMs', async () => {
      const up = await backend.outage()
      let restored: Promise<void> | undefined
      const restore = () => (restored ??= up())
      let waiting: GatewayDatabase | undefined
      try {
        waiting = await openDatabaseWhenReachable(backend.options(), { firstDelayMs: 50, maxDelayMs: 100, logger: { warn() {}, info() {} } })
        expect(waiting.isReady()).toBe(false)
        await expect(createSettingsStore(waiting, { readyTimeoutMs: 100 }).load()).rejects.toThrow(
          /storage: settings: load settings failed: the database is not reachable/,
        )
        const pending = Promise.all([
          createSettingsStore(waiting).load(),
          createTokenStore(waiting).list(),
          createLogQueries(waiting).requests({}),
          createStatsQueries(waiting).totals(0, Date.now()),
        ])
        await new Promise((resolve) => setTimeout(resolve, 200))
        await restore()
        const [settings, tokens, page, totals] = await pending
        expect(settings).toMatchObject({ maxRetries: 5 })
        expect(tokens.map((t) => t.id)).toEqual(['tok-2'])
        expect(page.items).toEqual(expect.any(Array))
        expect(totals.requests).toEqual(expect.any(Number))
      } finally {
        await restore()
        await waiting?.close()
      }
    })
})
