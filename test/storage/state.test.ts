import { randomBytes } from 'node:crypto'
import Redis from 'ioredis'
import type { Storage } from 'unstorage'
import { afterAll, describe, expect, it } from 'vitest'
import { createStateStorage } from '../../storage/index.ts'
import { REDIS_URL } from './backends.ts'

const base = `gemgate_t_${randomBytes(5).toString('hex')}`
const cases = [
  { name: 'memory', make: () => createStateStorage({}) },
  { name: 'redis', make: () => createStateStorage({ redisUrl: REDIS_URL, base }) },
]

describe.each(cases)('state storage on $name', ({ name, make }) => {
  const storages: Storage[] = []
  afterAll(async () => {
    for (const s of storages) {
      await s.clear()
      await s.dispose()
    }
  })

  it('round-trips values, lists and removes keys', async () => {
    const state = make()
    storages.push(state)
    await state.setItem('keys:k1', { status: 'cooling', until: 1_764_000_000_000, models: ['gemini-2.5-pro'] })
    await state.setItem('keys:k2', { status: 'active' })
    await state.setItem('counter', 3)
    expect(await state.getItem('keys:k1')).toEqual({ status: 'cooling', until: 1_764_000_000_000, models: ['gemini-2.5-pro'] })
    expect(await state.getItem('counter')).toBe(3)
    expect(await state.hasItem('keys:k2')).toBe(true)
    expect((await state.getKeys('keys')).sort()).toEqual(['keys:k1', 'keys:k2'])
    await state.removeItem('keys:k2')
    expect(await state.getItem('keys:k2')).toBeNull()
    expect(await state.getKeys('keys')).toEqual(['keys:k1'])
  })

  if (name === 'redis') {
    it('keeps its keys under the base prefix and shares them with a second instance', async () => {
      const a = make()
      const b = make()
      storages.push(a, b)
      await a.setItem('keys:shared', { status: 'disabled' })
      expect(await b.getItem('keys:shared')).toEqual({ status: 'disabled' })
      const raw = new Redis(REDIS_URL)
      try {
        expect(await raw.get(`${base}:keys:shared`)).toBe('{"status":"disabled"}')
        await a.clear()
        expect(await raw.keys(`${base}:*`)).toEqual([])
      } finally {
        raw.disconnect()
      }
    })
  }
})
