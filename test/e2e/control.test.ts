// The operator's controls (ctx.control, what the console is built on) on a real gateway: settings saved and applied
// without a restart, the environment pinning what it sets, keys and client tokens added and removed, the admin token.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN_FILE } from '../../core/control/admin-token.ts'
import { databaseEnv, startGateway, post, userText, TOKEN, KEYS, type Running } from './harness.ts'
import search from '../../plugins/search/index.ts'

const NEW_KEY = 'AIzaSy-console-added-key-0000000000009'
const generate = (running: Running, token = TOKEN) =>
  post(running, '/v1beta/models/gemini-2.5-flash:generateContent', userText('hi'), { 'x-goog-api-key': token })

describe('settings saved in the console', () => {
  let running: Running
  beforeAll(async () => {
    running = await startGateway({ env: { MAX_RETRIES: '2' }, config: { plugins: [search()] } })
  })
  afterAll(() => running.close())

  it('lists every setting with its source, the environment pinning what it sets', () => {
    const settings = running.gateway.control.settings.describe()
    const byPath = new Map(settings.map((setting) => [setting.path, setting]))
    expect(byPath.get('maxRetries')).toMatchObject({ value: 2, source: 'env', env: 'MAX_RETRIES', pinned: true, live: true, type: 'number' })
    expect(byPath.get('maxFailures')).toMatchObject({ value: 3, source: 'default', pinned: false })
    expect(byPath.get('logLevel')).toMatchObject({ type: 'enum' })
    expect(byPath.get('port')).toMatchObject({ live: false })
    expect(byPath.get('plugins.search.enabled')).toMatchObject({ value: true, type: 'boolean', group: 'Plugin: search' })
    expect(byPath.get('plugins.search.models')).toMatchObject({ type: 'list', env: 'SEARCH_MODELS' })
    // Keys and tokens have pages of their own; the secret settings that are listed are masked.
    expect(byPath.has('apiKeys')).toBe(false)
    expect(JSON.stringify(settings)).not.toContain(KEYS[0])
  })

  it('refuses a pinned, an unknown, a restart-only or an invalid value, naming it, and saves nothing', async () => {
    const result = await running.gateway.control.settings.save({ maxRetries: 5, nope: 1, port: 9, maxFailures: 0 })
    expect(Object.keys(result.errors).sort()).toEqual(['maxFailures', 'maxRetries', 'nope', 'port'])
    expect(result.errors.maxRetries).toContain('MAX_RETRIES')
    expect(result.errors.maxFailures).toContain('between 1 and 1000')
    expect(running.gateway.config.maxFailures).toBe(3)
  })

  it('applies a saved value to the next request without a restart, and goes back to the default when reset', async () => {
    const saved = await running.gateway.control.settings.save({ filteredModels: ['gemini-2.5-flash'] })
    expect(saved.errors).toEqual({})
    expect((await generate(running)).status).toBe(404)
    expect(running.gateway.control.settings.describe().find((setting) => setting.path === 'filteredModels')).toMatchObject({ source: 'console' })
    await running.gateway.control.settings.save({ filteredModels: null })
    expect((await generate(running)).status).toBe(200)
  })

  it('turns a plugin off and on', async () => {
    const searchModel = (running: Running) => post(running, '/v1beta/models/gemini-2.5-flash-search:generateContent', userText('hi'))
    expect((await searchModel(running)).status).toBe(200)
    expect((await running.gateway.control.settings.save({ 'plugins.search.enabled': false })).errors).toEqual({})
    expect((await searchModel(running)).status).toBe(404)
    await running.gateway.control.settings.save({ 'plugins.search.enabled': null })
    expect((await searchModel(running)).status).toBe(200)
  })

  it('takes typed text as the environment would (a list, a number)', () => {
    expect(running.gateway.control.settings.validate({ maxFailures: '7', filteredModels: 'a,b' })).toEqual({})
    expect(running.gateway.control.settings.validate({ maxFailures: 'seven' }).maxFailures).toContain('whole number')
  })

  it('previews a gemini-balance .env and imports what is not pinned', async () => {
    const env = 'MAX_FAILURES=9\nMAX_RETRIES=4\nAPI_KEYS=["x"]\nSEARCH_MODELS=["gemini-2.5-pro"]\nWHATEVER=1\nTIME_OUT=abc\n'
    const preview = running.gateway.control.settings.previewImport(env)
    expect(preview.changes.map((change) => [change.env, change.pinned])).toEqual([
      ['MAX_FAILURES', false],
      ['MAX_RETRIES', true],
      ['SEARCH_MODELS', false],
    ])
    expect(preview.unknown).toEqual(['WHATEVER'])
    expect(Object.keys(preview.skipped)).toEqual(['API_KEYS'])
    expect(Object.keys(preview.errors)).toEqual(['TIME_OUT'])
    const result = await running.gateway.control.settings.importEnv(env)
    expect(result.errors).toEqual({})
    expect(running.gateway.config.maxFailures).toBe(9)
    expect(running.gateway.config.maxRetries).toBe(2)
  })
})

describe('keys and client tokens added in the console', () => {
  let running: Running
  beforeAll(async () => {
    running = await startGateway()
  })
  afterAll(() => running.close())

  it('adds a key to the pool at once, drops duplicates, and refuses to delete a configured one', async () => {
    const { added, duplicates } = await running.gateway.control.keys.add([NEW_KEY, NEW_KEY, KEYS[0]!])
    expect(added.map((key) => key.source)).toEqual(['console'])
    expect(duplicates).toBe(2)
    expect(running.gateway.pool.keys).toHaveLength(KEYS.length + 1)
    const configured = running.gateway.control.keys.idOf(KEYS[0]!)
    const result = await running.gateway.control.keys.remove([added[0]!.id, configured, 'nope'])
    expect(result).toMatchObject({ done: [added[0]!.id], notFound: ['nope'], refused: [{ id: configured }] })
    expect(running.gateway.pool.keys).toHaveLength(KEYS.length)
  })

  it('verifies a key and shows its state; disables and enables one', async () => {
    const [first] = running.gateway.control.keys.list()
    running.upstream.setBehaviour(KEYS[0]!, 'invalid-key')
    expect(first!.id).toBe(running.gateway.control.keys.idOf(KEYS[0]!))
    const [result] = await running.gateway.control.keys.verify([first!.id])
    running.upstream.reset()
    expect(result).toMatchObject({ id: first!.id, ok: false, class: 'invalid-key', state: 'disabled' })
    expect(running.gateway.control.events.list().at(-1)).toMatchObject({ keyId: first!.id, kind: 'disabled' })
    expect(running.gateway.control.keys.enable([first!.id]).done).toEqual([first!.id])
    expect(running.gateway.control.keys.get(first!.id)?.state).toBe('healthy')
    running.gateway.control.keys.disable([first!.id])
    // The re-check does not bring back what an operator took out.
    await running.gateway.recheck.runNow()
    expect(running.gateway.control.keys.get(first!.id)?.state).toBe('disabled')
    running.gateway.control.keys.reset([first!.id])
  })

  it('serves a created token at once, stores only its hash, and refuses it once disabled or deleted', async () => {
    const { token, view } = await running.gateway.control.tokens.create('ci')
    expect((await generate(running, token)).status).toBe(200)
    expect((await running.gateway.control.tokens.list()).map((listed) => listed.source)).toEqual(['config', 'console'])
    await running.gateway.control.tokens.setEnabled(view.id, false)
    expect((await generate(running, token)).status).toBe(401)
    await running.gateway.control.tokens.setEnabled(view.id, true)
    expect((await generate(running, token)).status).toBe(200)
    expect((await running.gateway.control.tokens.remove([view.id, running.gateway.idOf(TOKEN)])).refused).toEqual([running.gateway.idOf(TOKEN)])
    expect((await generate(running, token)).status).toBe(401)
  })

  it('counts refused requests in the logs', async () => {
    await generate(running, 'sk-wrong-token-000000000000')
    await running.gateway.logs.flush()
    const page = await running.gateway.control.logs.requests({ status: 401 })
    expect(page.items.length).toBeGreaterThan(0)
    expect(page.items[0]).toMatchObject({ failureClass: 'client-error', keyId: '' })
  })
})

describe('a first run with nothing set', () => {
  let running: Running
  beforeAll(async () => {
    running = await startGateway({ env: { ALLOWED_TOKENS: '' } })
  })
  afterAll(() => running.close())

  it('makes an admin token once, keeps only its hash, and serves nothing until a client token exists', async () => {
    const admin = running.gateway.control.adminToken
    const token = admin.takeCreated()!
    expect(token).toMatch(/^gg-admin-/)
    expect(admin.takeCreated()).toBeUndefined()
    expect(admin.source).toBe('generated')
    const file = join(running.gateway.config.dataDir, ADMIN_TOKEN_FILE)
    expect(existsSync(file) && readFileSync(file, 'utf8')).not.toContain(token)
    expect(admin.verify(token)).toBe(true)
    expect(admin.verify(`${token}x`)).toBe(false)
    const refused = await generate(running, token)
    expect(refused.status).toBe(401)
    expect(JSON.stringify(await refused.json())).toContain('no client token yet')
    const before = admin.fingerprint
    const rotated = await admin.rotate()
    expect(admin.verify(rotated) && !admin.verify(token)).toBe(true)
    expect(admin.fingerprint).not.toBe(before)
  })
})

describe.each(['sqlite', 'mysql'] as const)('what the console saved survives a restart on %s', (backend) => {
  const env: Record<string, string> = { DATA_DIR: mkdtempSync(join(tmpdir(), 'gemgate-control-')) }
  let drop = async () => {}
  beforeAll(async () => {
    const database = await databaseEnv(backend)
    Object.assign(env, database.env)
    drop = database.drop
  })
  afterAll(() => drop())

  it('keeps settings, keys and tokens, and the environment still wins over a saved value', async () => {
    const first = await startGateway({ env })
    expect((await first.gateway.control.settings.save({ maxFailures: 7, testModel: 'gemini-2.5-flash' })).errors).toEqual({})
    await first.gateway.control.keys.add([NEW_KEY])
    const { token } = await first.gateway.control.tokens.create('kept')
    await first.close()

    const second = await startGateway({ env: { ...env, TEST_MODEL: 'gemini-2.5-pro' } })
    try {
      expect(second.gateway.config.maxFailures).toBe(7)
      expect(second.gateway.config.testModel).toBe('gemini-2.5-pro')
      expect(second.gateway.control.settings.describe().find((setting) => setting.path === 'testModel')).toMatchObject({ source: 'env', pinned: true })
      expect(second.gateway.pool.keys.map((key) => key.id)).toContain(second.gateway.control.keys.idOf(NEW_KEY))
      expect((await generate(second, token)).status).toBe(200)
    } finally {
      await second.close()
    }
  })
})
