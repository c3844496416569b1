import { describe, expect, it } from 'vitest'
import { createLoginThrottle } from './internal/throttle.ts'

const MINUTE = 60_000

describe('login throttle', () => {
  const make = () => {
    const clock = { now: 1_000_000 }
    const throttle = createLoginThrottle({ now: () => clock.now, maxAddresses: 3 })
    return { clock, throttle }
  }

  it('lets 5 wrong tokens through, then makes the address wait a minute', () => {
    const { clock, throttle } = make()
    for (let i = 0; i < 4; i++) {
      throttle.failed('a')
      expect(throttle.retryAfter('a')).toBeUndefined()
    }
    throttle.failed('a')
    expect(throttle.retryAfter('a')).toBe(60)
    clock.now += 30_000
    expect(throttle.retryAfter('a')).toBe(30)
    // Another address is not slowed down by it.
    expect(throttle.retryAfter('b')).toBeUndefined()
    clock.now += 30_000
    expect(throttle.retryAfter('a')).toBeUndefined()
  })

  it('doubles the wait with each further failure, up to 15 minutes', () => {
    const { clock, throttle } = make()
    for (let i = 0; i < 5; i++) throttle.failed('a')
    const waits: number[] = []
    for (let i = 0; i < 6; i++) {
      clock.now += throttle.retryAfter('a')! * 1000
      throttle.failed('a')
      waits.push(throttle.retryAfter('a')!)
    }
    expect(waits).toEqual([120, 240, 480, 900, 900, 900])
  })

  it('forgets an address after a quiet spell past its wait, and at once after a success', () => {
    const { clock, throttle } = make()
    for (let i = 0; i < 5; i++) throttle.failed('a')
    clock.now += MINUTE + 15 * MINUTE
    throttle.failed('a') // counted from zero again: no wait
    expect(throttle.retryAfter('a')).toBeUndefined()
    for (let i = 0; i < 3; i++) throttle.failed('a')
    throttle.succeeded('a')
    throttle.failed('a')
    expect(throttle.retryAfter('a')).toBeUndefined()
  })

  it('remembers a bounded number of addresses, dropping the least recently failing', () => {
    const { throttle } = make()
    for (let i = 0; i < 5; i++) throttle.failed('old')
    for (const address of ['b', 'c', 'd']) throttle.failed(address)
    expect(throttle.retryAfter('old')).toBeUndefined()
  })
})
