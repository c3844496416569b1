// The key-value state instances share (storage/state.ts): in memory, and in Redis over the shared state's own
// connection, under the deployment's prefix.
import Redis from 'ioredis'
import type { Storage } from 'unstorage'
import { afterAll, describe, expect, it } from 'vitest'
import { createSharedState, type SharedState } from '../../core/shared/index.ts'
import { clearPrefix, freshPrefix, recordingLogger, REDIS_URL } from './redis.ts'

const prefix = freshPrefix()
const states: SharedState[] = []
const open = async (redisUrl?: string) => {
  const state = await createSharedState({ redisUrl, prefix, logger: recordingLogger().logger })
  states.push(state)
  return state.storage
}

afterAll(async () => {
  await Promise.all(states.map((state) => state.close()))
  await clearPrefix(prefix)
})

describe.each([
  { name: 'memory', make: () => open() },
  { name: 'redis', make: () => open(REDIS_URL) },
])('state storage in $name', ({ name, make }) => {
  it('round-trips values, lists and removes keys', async () => {
    const state: Storage = await make()
    await state.setItem('keys:k1', { status: 'cooling', until: 1_764_000_000_000, models: ['gemini-2.5-pro'] })
    await state.setItem('keys:k2', { status: 'active' })
    await state.setItem('counter', 3)
    expect(await state.getItem('keys:k1')).toEqual({ status: 'cooling', until: 1_764_000_000_000, models: ['gemini-2.5-pro'] })
    expect(await state.getItem('counter')).toBe(3)
    expect(await state.hasItem('keys:k2')).toBe(true)
    expect(await state.getItems(['keys:k1', 'keys:gone'])).toEqual([
      { key: 'keys:k1', value: { status: 'cooling', until: 1_764_000_000_000, models: ['gemini-2.5-pro'] } },
      { key: 'keys:gone', value: null },
    ])
    expect((await state.getKeys('keys')).sort()).toEqual(['keys:k1', 'keys:k2'])
    await state.removeItem('keys:k2')
    expect(await state.getItem('keys:k2')).toBeNull()
    expect(await state.hasItem('keys:k2')).toBe(false)
    expect(await state.getKeys('keys')).toEqual(['keys:k1'])
    await state.clear()
    expect(await state.getKeys('')).toEqual([])
  })

  if (name === 'redis') {
    it('keeps its keys under the prefix as JSON, shared with a second instance, and leaves other prefixes alone', async () => {
      const [a, b] = [await make(), await make()]
      const raw = new Redis(REDIS_URL)
      try {
        await raw.set(`${prefix}x:other`, 'not ours')
        await a.setItem('keys:shared', { status: 'disabled' })
        expect(await b.getItem('keys:shared')).toEqual({ status: 'disabled' })
        expect(await raw.get(`${prefix}:keys:shared`)).toBe('{"status":"disabled"}')
        await b.clear()
        expect(await raw.keys(`${prefix}:*`)).toEqual([])
        expect(await raw.get(`${prefix}x:other`)).toBe('not ours')
      } finally {
        await raw.del(`${prefix}x:other`)
        raw.disconnect()
      }
    })
  }
})
