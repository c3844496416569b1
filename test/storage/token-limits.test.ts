import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTokenStore, migrate, type GatewayDatabase, type StoredToken } from '../../storage/index.ts'
import { backends, count, storedToken, type Backend } from './backends.ts'

const token = (n: number, extra?: Partial<StoredToken>) => storedToken('lim', n, extra)

describe.each(backends())('client token limits on $name', (backend: Backend) => {
  let database: GatewayDatabase

  beforeAll(async () => {
    await backend.setup()
    database = await backend.open()
  })
  afterAll(async () => {
    await database?.close()
    await backend.teardown()
  })

  it('a token is stored with its limits, listed with them; one without has none; limits are replaced, lifted, removed with it', async () => {
    const tokens = createTokenStore(database)
    const limits = {
      models: ['gemini-2.5-flash', 'gemini-2.0-*'],
      rpm: 60,
      rpd: 1_000,
      tokensPerDay: 2_000_000,
      tokensPerMonth: 999_999_999_999,
      expiresAt: 1_800_000_000_000,
    }
    await tokens.add(token(1, { limits }))
    await tokens.add(token(2))
    await tokens.add(token(3, { limits: {} }))
    expect(await tokens.list()).toEqual([token(1, { limits }), token(2), token(3)])
    expect(await count(database, 'client_token_limits')).toBe(1)

    expect(await tokens.setLimits('lim-2', { rpm: 5 })).toBe(true)
    expect(await tokens.setLimits('lim-1', { tokensPerMonth: 10 })).toBe(true)
    expect(await tokens.setLimits('lim-404', { rpm: 5 })).toBe(false)
    expect((await tokens.list()).map((t) => t.limits)).toEqual([{ tokensPerMonth: 10 }, { rpm: 5 }, undefined])
    expect(await tokens.setLimits('lim-1', {})).toBe(true)
    expect((await tokens.list())[0]).toEqual(token(1))

    expect(await tokens.remove(['lim-2'])).toBe(1)
    expect(await count(database, 'client_token_limits')).toBe(0)
  })

  it.each([
    { limits: { rpm: 0 }, error: /rpm/ },
    { limits: { rpd: 1.5 }, error: /rpd/ },
    { limits: { tokensPerDay: 1e16 }, error: /tokensPerDay/ },
    { limits: { models: [''] }, error: /models/ },
    { limits: { models: Array.from({ length: 101 }, (_, i) => `m${i}`) }, error: /models/ },
    { limits: { expiresAt: -1 }, error: /expiresAt/ },
  ])('refuses $limits, storing nothing', async ({ limits, error }) => {
    const tokens = createTokenStore(database)
    await expect(tokens.add(token(9, { limits }))).rejects.toThrow(error)
    expect((await tokens.list()).some((t) => t.id === 'lim-9')).toBe(false)
    await tokens.add(token(10))
    await expect(tokens.setLimits('lim-10', limits)).rejects.toThrow(error)
    expect((await tokens.list()).find((t) => t.id === 'lim-10')?.limits).toBeUndefined()
    await tokens.remove(['lim-10'])
  })

  it('the migration runs again harmlessly (two instances starting at once)', async () => {
    await database.db.exec(`DELETE FROM _migrations WHERE id = '009_client_token_limits'`)
    await Promise.all([migrate(database), migrate(database)])
    expect(await count(database, '_migrations', `WHERE id = '009_client_token_limits'`)).toBe(1)
  })
})
