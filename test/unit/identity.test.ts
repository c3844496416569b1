import { createHash, createHmac } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import { createIdHasher, maskSecret, newRequestId } from '../../core/identity.ts'

const SECRET_A = 'a'.repeat(64)
const SECRET_B = 'b'.repeat(64)

describe('ids of keys and tokens', () => {
  it('are an HMAC-SHA256 under the deployment secret, 16 hex characters, the same for every instance', () => {
    const idOf = createIdHasher(SECRET_A)
    expect(idOf('sk-short')).toMatch(/^[0-9a-f]{16}$/)
    expect(idOf('sk-short')).toBe(createHmac('sha256', SECRET_A).update('sk-short').digest('hex').slice(0, 16))
    expect(createIdHasher(SECRET_A)('sk-short')).toBe(idOf('sk-short'))
  })

  it('cannot be matched against a bare hash of a guessed token, and differ between deployments', () => {
    const idOf = createIdHasher(SECRET_A)
    const bare = createHash('sha256').update('sk-short').digest('hex')
    expect(bare.startsWith(idOf('sk-short'))).toBe(false)
    expect(createIdHasher(SECRET_B)('sk-short')).not.toBe(idOf('sk-short'))
    expect(idOf('sk-short')).not.toBe(idOf('sk-shorT'))
  })

  it('refuse a deployment secret too short to key them', () => {
    expect(() => createIdHasher('short')).toThrow(/at least 32/)
  })
})

describe('request ids', () => {
  it('are UUIDv7: the time in ms, version 7, the RFC variant, random bits', () => {
    const before = Date.now()
    const id = newRequestId()
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)
    expect(ms).toBeGreaterThanOrEqual(before)
    expect(ms).toBeLessThanOrEqual(Date.now())
    expect(new Set(Array.from({ length: 1000 }, newRequestId)).size).toBe(1000)
  })

  it('made in a later millisecond sort after every id made before (the log index grows at its end)', () => {
    vi.useFakeTimers({ toFake: ['Date'], now: 1_700_000_000_000 })
    try {
      const ids: string[] = []
      for (let i = 0; i < 50; i++) {
        ids.push(newRequestId())
        vi.setSystemTime(Date.now() + 1)
      }
      expect([...ids].sort()).toEqual(ids)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('masked secrets', () => {
  it.each([
    ['AIzaSyA-a-gemini-key-of-39-characters-x', 'AIza...rs-x'],
    ['sk-twenty-four-chars-xyz', 'sk-t...-xyz'],
    ['sk-twelve-ab', 'sk...ab'],
    ['sk-123456', 'sk...'],
    ['short', 's...'],
    ['ab', '...'],
    ['', '...'],
  ])('%j shows as %j', (secret, shown) => {
    expect(maskSecret(secret)).toBe(shown)
  })

  it('never shows more than a third of the secret', () => {
    for (let length = 0; length <= 64; length++) {
      const shown = maskSecret('x'.repeat(length)).replace('...', '')
      expect(shown.length).toBeLessThanOrEqual(length / 3)
    }
  })
})
