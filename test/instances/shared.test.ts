// The shared state of instances (core/shared) against a real Redis: each "instance" is its own SharedState with its
// own connections, as two processes would have.
import { setTimeout as sleep } from 'node:timers/promises'
import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSharedState, watchSettings, type SharedState } from '../../core/shared/index.ts'
import { clearPrefix, freshPrefix, recordingLogger, REDIS_URL, redisRelay, until } from './redis.ts'

const prefix = freshPrefix()
const opened: SharedState[] = []
const open = async (redisUrl = REDIS_URL, logger = recordingLogger().logger) => {
  const state = await createSharedState({ redisUrl, prefix, logger })
  opened.push(state)
  return state
}

afterAll(async () => {
  await Promise.all(opened.map((state) => state.close()))
  await clearPrefix(prefix)
})

describe('two instances on one Redis', () => {
  let a: SharedState
  let b: SharedState
  beforeAll(async () => {
    ;[a, b] = await Promise.all([open(), open()])
  })

  it('count exactly: 600 concurrent adds from both give every total from 1 to 600 once', async () => {
    const window = { ms: 60_000, anchor: Date.now() } // a window that starts now: the test never straddles two
    const totals = await Promise.all(Array.from({ length: 600 }, (_, i) => (i % 2 ? a : b).counters.add('exact', 1, window)))
    expect(totals.sort((x, y) => x - y)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1))
    expect(await a.counters.get('exact', window)).toBe(600)
    expect(await b.counters.add('exact', 5, window)).toBe(605)
    const redis = new Redis(REDIS_URL)
    try {
      const [key] = await redis.keys(`${prefix}:count:exact:*`)
      // The counter expires with its window (plus a grace for clocks), never lives on.
      expect(await redis.pttl(key!)).toBeGreaterThan(0)
      expect(await redis.pttl(key!)).toBeLessThanOrEqual(120_000)
    } finally {
      redis.disconnect()
    }
  })

  it('count in fixed windows from an anchor: a new window starts from zero', async () => {
    const window = { ms: 300, anchor: Date.now() }
    expect(await a.counters.add('window', 2, window)).toBe(2)
    expect(await b.counters.add('window', 3, window)).toBe(5)
    await sleep(window.anchor + 300 - Date.now() + 5)
    expect(await b.counters.get('window', window)).toBe(0)
    expect(await a.counters.add('window', 1, window)).toBe(1)
  })

  it('hear each other on the bus, never themselves', async () => {
    const heardA: unknown[] = []
    const heardB: unknown[] = []
    const offA = a.bus.subscribe('greetings', (message) => heardA.push(message))
    const offB = b.bus.subscribe('greetings', (message) => heardB.push(message))
    await sleep(50) // the subscriptions reach Redis
    a.bus.publish('greetings', { from: 'a', n: 1 })
    await until(() => heardB.length === 1)
    expect(heardB).toEqual([{ from: 'a', n: 1 }])
    offB()
    await sleep(50)
    a.bus.publish('greetings', { from: 'a', n: 2 })
    b.bus.publish('greetings', { from: 'b', n: 1 })
    await until(() => heardA.length === 1)
    await sleep(50)
    expect(heardA).toEqual([{ from: 'b', n: 1 }])
    expect(heardB).toHaveLength(1)
    offA()
  })

  it('hold a lease one at a time; a claim lapses after its ttl, a kept lease is renewed until released', async () => {
    const release = await a.leases.acquire('job:x', 300, { keep: true })
    expect(release).toBeTypeOf('function')
    expect(await b.leases.acquire('job:x', 300)).toBeUndefined()
    await sleep(500) // past its ttl: renewed meanwhile
    expect(await b.leases.acquire('job:x', 300)).toBeUndefined()
    await release!()
    await release!() // twice is harmless
    const taken = await b.leases.acquire('job:x', 300)
    expect(taken).toBeTypeOf('function')
    await taken!()

    expect(await a.leases.acquire('claim', 150)).toBeTypeOf('function')
    expect(await b.leases.acquire('claim', 150)).toBeUndefined()
    await sleep(200)
    expect(await b.leases.acquire('claim', 150)).toBeTypeOf('function')
  })

  it('a settings change announced by one reaches the other at once, and the instance that made it does not reload', async () => {
    let version = 1
    const reloads = { a: 0, b: 0 }
    const watchA = watchSettings(a, { version: async () => version, onChange: async () => void reloads.a++, logger: recordingLogger().logger })
    const watchB = watchSettings(b, { version: async () => version, onChange: async () => void reloads.b++, logger: recordingLogger().logger })
    try {
      await sleep(50)
      version = 2
      await watchA.announce()
      await until(() => reloads.b === 1, 1000)
      await sleep(100)
      expect(reloads).toEqual({ a: 0, b: 1 })
    } finally {
      watchA.stop()
      watchB.stop()
    }
  })
})

describe('without Redis', () => {
  it('counts, leases and key-value state are this process’s own, and the bus reaches no one', async () => {
    const state = await createSharedState({ logger: recordingLogger().logger })
    try {
      expect(state.status()).toBe('local')
      const window = { ms: 60_000, anchor: Date.now() }
      expect(await state.counters.add('n', 2, window)).toBe(2)
      expect(await state.counters.add('n', 2, window)).toBe(4)
      const release = await state.leases.acquire('l', 60_000)
      expect(await state.leases.acquire('l', 60_000)).toBeUndefined()
      await release!()
      expect(await state.leases.acquire('l', 60_000)).toBeTypeOf('function')
      state.bus.publish('c', 1)
      await state.storage.setItem('k', { v: 1 })
      expect(await state.storage.getItem('k')).toEqual({ v: 1 })
    } finally {
      await state.close()
    }
  })

  it('a change made before the watch started (after the config was read) is applied at once', async () => {
    const state = await createSharedState({ logger: recordingLogger().logger })
    let reloads = 0
    const watch = watchSettings(state, { version: async () => 5, initial: 4, onChange: async () => void reloads++, logger: recordingLogger().logger })
    try {
      await until(() => reloads === 1, 500)
    } finally {
      watch.stop()
      await state.close()
    }
  })

  it('a change is found by polling the version', async () => {
    const state = await createSharedState({ logger: recordingLogger().logger })
    let version = 7
    let reloads = 0
    const watch = watchSettings(state, {
      version: async () => version,
      onChange: async () => void reloads++,
      logger: recordingLogger().logger,
      pollMs: 50,
      idlePollMs: 50,
    })
    try {
      await sleep(80)
      expect(reloads).toBe(0)
      version = 8
      await until(() => reloads === 1, 1000)
    } finally {
      watch.stop()
      await state.close()
    }
  })
})

describe('Redis going away and coming back', () => {
  it('each part goes local at once, the outage is said once each way, and what was counted meanwhile reaches Redis', async () => {
    const relay = redisRelay()
    await relay.up()
    const { logger, lines } = recordingLogger()
    const state = await open(relay.url, logger)
    const other = await open()
    const window = { ms: 60_000, anchor: Date.now() } // a window that starts now: the test never straddles two
    let recovered = 0
    state.onRecover(() => recovered++)
    try {
      expect(state.status()).toBe('shared')
      expect(await state.counters.add('outage', 10, window)).toBe(10)
      const heard: unknown[] = []
      state.bus.subscribe('outage', (message) => heard.push(message))
      await sleep(50)

      await relay.down()
      await until(() => state.status() === 'degraded', 2000)
      const started = performance.now()
      // Answered locally, at once, from the last total Redis gave.
      expect(await state.counters.add('outage', 1, window)).toBe(11)
      expect(await state.counters.add('outage', 1, window)).toBe(12)
      expect(await state.leases.acquire('outage-lease', 60_000)).toBeTypeOf('function')
      state.bus.publish('outage', 'lost')
      expect(performance.now() - started).toBeLessThan(50)
      expect(await other.counters.add('outage', 100, window)).toBe(110) // Redis saw only the 10
      await sleep(1200) // several reconnect attempts fail
      expect(lines.filter((line) => line.includes('Redis unreachable'))).toHaveLength(1)

      await relay.up()
      await until(() => state.status() === 'shared', 3000)
      expect(recovered).toBe(1)
      await until(async () => (await other.counters.get('outage', window)) === 112, 2000, 'the counts made during the outage reach Redis')
      expect(await state.counters.add('outage', 1, window)).toBe(113)
      other.bus.publish('outage', 'after')
      await until(() => heard.length === 1, 2000, 'the subscription is made again')
      expect(heard).toEqual(['after'])
      expect(lines.filter((line) => /Redis (unreachable|reachable again)/.test(line))).toEqual([
        expect.stringMatching(/^warn: Redis unreachable \(.+\): counters, leases, messages and key state are this instance's own until it is back$/),
        'info: Redis reachable again: state is shared with the other instances again',
      ])
    } finally {
      await relay.down()
    }
  })

  it('a start with Redis unreachable goes on, degraded, and joins once Redis answers', async () => {
    const relay = redisRelay()
    await relay.up()
    await relay.down() // the port is known, nothing listens
    const { logger, lines } = recordingLogger()
    const started = performance.now()
    const state = await open(relay.url, logger)
    try {
      expect(performance.now() - started).toBeLessThan(1000)
      expect(state.status()).toBe('degraded')
      expect(await state.counters.add('late', 1, { ms: 60_000, anchor: Date.now() })).toBe(1)
      await relay.up()
      await until(() => state.status() === 'shared', 3000)
      expect(lines.filter((line) => /Redis (unreachable|reachable again)/.test(line))).toHaveLength(2)
    } finally {
      await relay.down()
    }
  })
})
