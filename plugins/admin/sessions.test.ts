import { randomBytes } from 'node:crypto'
import { createStorage, prefixStorage, type Storage } from 'unstorage'
import redisDriver from 'unstorage/drivers/redis'
import { afterAll, describe, expect, it } from 'vitest'
import { REDIS_URL } from '../../test/storage/backends.ts'
import { createSessionStore } from './internal/sessions.ts'

const cases = [
  { name: 'memory', make: () => createStorage() },
  {
    name: 'redis',
    make: () => prefixStorage(createStorage({ driver: redisDriver({ url: REDIS_URL, base: `gemgate_t_${randomBytes(5).toString('hex')}` }) }), 'plugins:admin'),
  },
]

describe.each(cases)('console sessions in $name state', ({ make }) => {
  const state: Storage = make()
  /** Storage.clear() misses keys under a prefix on Redis (unstorage 1.17); removed one by one instead. */
  const removeAll = async () => {
    for (const key of await state.getKeys('sessions')) await state.removeItem(key)
  }
  afterAll(async () => {
    await removeAll()
    await state.dispose()
  })
  const clock = { now: 1_800_000_000_000, fingerprint: 'f1' }
  const sessions = createSessionStore(state, { expireSeconds: 600, fingerprint: () => clock.fingerprint, now: () => clock.now })

  it('keeps only the SHA-256 of the id, and finds the session by its id', async () => {
    const { id, session } = await sessions.create()
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(session).toMatchObject({ expiresAt: clock.now + 600_000, fingerprint: 'f1' })
    expect(session.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const keys = await state.getKeys('sessions')
    expect(keys.some((key) => key.includes(id))).toBe(false)
    expect(await sessions.get(id)).toEqual(session)
    expect(await sessions.get(id.slice(1) + 'x')).toBeUndefined()
    expect(await sessions.get('not an id')).toBeUndefined()
  })

  it('ends a session at logout, at expiry, and when the admin token changes', async () => {
    const a = await sessions.create()
    await sessions.end(a.id)
    expect(await sessions.get(a.id)).toBeUndefined()

    const b = await sessions.create()
    clock.now += 600_000
    expect(await sessions.get(b.id)).toBeUndefined()

    const c = await sessions.create()
    clock.fingerprint = 'f2'
    expect(await sessions.get(c.id)).toBeUndefined()
    clock.fingerprint = 'f1' // the old token again: the session was removed when seen over, it stays over
    expect(await sessions.get(c.id)).toBeUndefined()
  })

  it('sweeps the sessions that are over and keeps the live ones', async () => {
    await removeAll()
    const live = await sessions.create()
    clock.now -= 1_000_000
    await sessions.create() // expired by the time the clock is back
    clock.now += 1_000_000
    clock.fingerprint = 'f0'
    const other = await sessions.create() // made under another admin token
    clock.fingerprint = 'f1'
    expect(await sessions.sweep()).toBe(2)
    expect(await sessions.get(live.id)).toBeDefined()
    expect(await sessions.get(other.id)).toBeUndefined()
    expect(await state.getKeys('sessions')).toHaveLength(1)
  })
})
