import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, startGateway, userText, type Running } from '../../test/e2e/harness.ts'
import admin from './index.ts'
import { expectNoSecret, login, type ConsoleClient } from './test-client.ts'

interface SettingView {
  path: string
  value: unknown
  source: string
  pinned: boolean
  secret: boolean
  env?: string
}

const PROXY = 'http://user:proxy-password-1@127.0.0.1:9'

describe('console settings API', () => {
  let gw: Running
  let client: ConsoleClient
  beforeAll(async () => {
    gw = await startGateway({ config: { plugins: [admin()] } })
    client = await login(gw)
  })
  afterAll(() => gw.close())

  const setting = async (path: string) => ((await client.json('GET', '/api/settings')).settings as SettingView[]).find((view) => view.path === path)!

  it('lists every setting with its source, pinned ones marked, and the precedence', async () => {
    const { settings, precedence } = await client.json('GET', '/api/settings')
    expect(precedence).toMatch(/^default < gateway\.config\.ts < saved in the console < environment/)
    expect(settings.find((view: SettingView) => view.path === 'maxRetries')).toMatchObject({ env: 'MAX_RETRIES', source: 'default', pinned: false })
    expect(settings.find((view: SettingView) => view.path === 'logLevel')).toMatchObject({ source: 'env', pinned: true })
    expect(settings.find((view: SettingView) => view.path === 'plugins.admin.sessionExpireSeconds')).toMatchObject({ env: 'ADMIN_SESSION_EXPIRE', value: 3600 })
    expectNoSecret(JSON.stringify(settings))
  })

  it('validates without saving', async () => {
    expect(await client.json('POST', '/api/settings/validate', { changes: { maxRetries: 5 } })).toEqual({ errors: {} })
    const { errors } = await client.json('POST', '/api/settings/validate', { changes: { maxRetries: 'many', 'no.such.setting': 1 } })
    expect(Object.keys(errors).sort()).toEqual(['maxRetries', 'no.such.setting'])
    expect((await setting('maxRetries')).source).toBe('default')
    for (const bad of [{}, { changes: 'x' }, { changes: [] }]) expect((await client.call('POST', '/api/settings/validate', bad)).status).toBe(400)
  })

  it('saves a setting and the next API request follows it; null puts it back', async () => {
    const model = 'gemini-2.5-flash'
    expect((await post(gw, `/v1beta/models/${model}:generateContent`, userText('before'))).status).toBe(200)
    const saved = await client.json('PUT', '/api/settings', { changes: { filteredModels: [model] } })
    expect(saved).toMatchObject({ applied: ['filteredModels'], errors: {} })
    expect(await setting('filteredModels')).toMatchObject({ value: [model], source: 'console' })
    expect((await post(gw, `/v1beta/models/${model}:generateContent`, userText('filtered'))).status).toBeGreaterThanOrEqual(400)

    expect((await client.json('PUT', '/api/settings', { changes: { filteredModels: null } })).applied).toEqual(['filteredModels'])
    expect((await setting('filteredModels')).source).toBe('default')
    expect((await post(gw, `/v1beta/models/${model}:generateContent`, userText('after'))).status).toBe(200)
  })

  it('refuses a bad value or a pinned one with 400 naming it, saving nothing', async () => {
    const refused = await client.call('PUT', '/api/settings', { changes: { maxRetries: 4, maxFailures: -3 } })
    expect(refused.status).toBe(400)
    const body = await refused.json()
    expect(Object.keys(body.error.fields)).toEqual(['maxFailures'])
    expect((await setting('maxRetries')).value).toBe(3)
    const pinned = await client.call('PUT', '/api/settings', { changes: { logLevel: 'debug' } })
    expect(pinned.status).toBe(400)
    expect(Object.keys((await pinned.json()).error.fields)).toEqual(['logLevel'])
  })

  it('keeps a secret masked, and refuses it sent back masked (which would overwrite it with its mask)', async () => {
    await client.json('PUT', '/api/settings', { changes: { proxies: [PROXY] } })
    const view = await setting('proxies')
    expect(view.secret).toBe(true)
    expect(JSON.stringify(view.value)).not.toContain('proxy-password-1')
    // Sent back as read: nothing changes.
    expect((await client.json('PUT', '/api/settings', { changes: { proxies: view.value } })).applied).toEqual([])
    const masked = await client.call('PUT', '/api/settings', { changes: { proxies: [...(view.value as string[]), 'http://127.0.0.1:10'] } })
    expect(masked.status).toBe(400)
    expect((await masked.json()).error.fields).toEqual({ proxies: expect.stringContaining('masked') })
    const { proxies } = await client.json('GET', '/api/proxies')
    expect(proxies).toHaveLength(1)
    expect(JSON.stringify(proxies)).not.toContain('proxy-password-1')
    await client.json('PUT', '/api/settings', { changes: { proxies: null } })
  })

  it('previews and imports a gemini-balance .env', async () => {
    const env = 'MAX_RETRIES=7\nSOME_OTHER_TOOL=1\nLOG_LEVEL=debug\n'
    const preview = await client.json('POST', '/api/settings/import/preview', { env })
    expect(preview.unknown).toEqual(['SOME_OTHER_TOOL'])
    expect(preview.changes).toContainEqual(expect.objectContaining({ path: 'maxRetries', env: 'MAX_RETRIES', to: 7, pinned: false }))
    expect((await setting('maxRetries')).value).toBe(3)
    const imported = await client.json('POST', '/api/settings/import', { env })
    expect(imported.applied).toContain('maxRetries')
    expect((await setting('maxRetries')).value).toBe(7)
    expect((await client.call('POST', '/api/settings/import', { env: 42 })).status).toBe(400)
  })

  it('answers gemini-balance’s /api/config by variable name, and saves through it', async () => {
    const config = await client.json('GET', '/api/config')
    expect(config).toMatchObject({ MAX_RETRIES: 7, TEST_MODEL: expect.any(String), ADMIN_SESSION_EXPIRE: 3600 })
    // Its editor sends everything back: what did not change (pinned and masked values too) is left alone.
    const saved = await client.json('PUT', '/api/config', { ...config, MAX_RETRIES: 2 })
    expect(saved.MAX_RETRIES).toBe(2)
    expect((await setting('maxRetries')).source).toBe('console')
    const unknown = await client.call('PUT', '/api/config', { NOT_A_SETTING: 1 })
    expect(unknown.status).toBe(400)
    expect((await unknown.json()).error.fields).toEqual({ NOT_A_SETTING: 'is not a setting gemgate knows' })
    const bad = await client.call('PUT', '/api/config', { MAX_RETRIES: 'lots' })
    expect(bad.status).toBe(400)
    expect(Object.keys((await bad.json()).error.fields)).toEqual(['MAX_RETRIES'])
  })
})
