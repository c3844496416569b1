// Key health shared live between instances (core/keys/store.ts) over a real Redis: two pools of the same keys, each
// with its own shared state and store, as two gateway processes have.
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createIdHasher } from '../../core/identity.ts'
import type { Verdict } from '../../core/keys/judge.ts'
import { KeyPool } from '../../core/keys/pool.ts'
import { createKeyHealthStore, type KeyHealthStore } from '../../core/keys/store.ts'
import { createSharedState, type SharedState } from '../../core/shared/index.ts'
import { clearPrefix, freshPrefix, recordingLogger, REDIS_URL, until } from './redis.ts'

const SECRETS = ['AIzaSy-health-key-one-00000000000001', 'AIzaSy-health-key-two-00000000000002', 'AIzaSy-health-key-three-000000000003']
const idOf = createIdHasher('instances-test-deployment-secret-32c')
const prefix = freshPrefix()
const MODEL = 'gemini-2.5-flash'

const invalid: Verdict = { class: 'invalid-key', retry: true, effect: { kind: 'disable', reason: 'API key not valid' }, reason: 'API key not valid' }
const rateLimited = (seconds: number): Verdict => ({
  class: 'rate-limited',
  retry: true,
  effect: { kind: 'cooldown', model: MODEL, until: Date.now() + seconds * 1000, reason: 'rate-limited' },
  reason: 'per-minute quota',
})

interface Instance {
  shared: SharedState
  pool: KeyPool
  store: KeyHealthStore
  /** onChange calls (writes) and onEvent calls (announcements) this instance made. */
  changes: number
  events: string[]
}

const instances: Instance[] = []
/** An instance: its own Redis connections, store and pool of the same keys. `bus: false`: it hears no messages. */
async function start({ bus = true, refreshMs = 0 } = {}): Promise<Instance> {
  const shared = await createSharedState({ redisUrl: REDIS_URL, prefix, logger: recordingLogger().logger })
  const instance = { shared, changes: 0, events: [] as string[] } as Instance
  instance.store = createKeyHealthStore({
    storage: shared.storage,
    bus: bus ? shared.bus : undefined,
    refreshMs,
    onError: (error) => {
      throw error
    },
  })
  instance.pool = new KeyPool(SECRETS, {
    maxFailures: 3,
    idOf,
    onChange: (key, health) => {
      instance.changes++
      instance.store.save(key, health)
    },
    onEvent: (event) => instance.events.push(`${event.kind} ${event.label}`),
  })
  await instance.store.load(instance.pool)
  instances.push(instance)
  await sleep(30) // the subscription reaches Redis
  return instance
}

const key = (instance: Instance, index: number) => instance.pool.keys[index]!

afterEach(async () => {
  for (const instance of instances.splice(0)) {
    instance.store.stop()
    await instance.shared.close()
  }
  await clearPrefix(prefix)
})
afterAll(() => clearPrefix(prefix))

describe('key health between two instances', () => {
  it('a key one disables is out of the other’s rotation at once, without an event, a write or an echo there', async () => {
    const [a, b] = [await start(), await start()]
    a.pool.apply(key(a, 0), invalid)
    const sent = performance.now()
    await until(() => b.pool.health(key(b, 0)).disabled !== undefined, 1000)
    expect(performance.now() - sent).toBeLessThan(200)
    expect(b.pool.health(key(b, 0)).disabled).toMatchObject({ reason: 'API key not valid' })
    for (let i = 0; i < 6; i++) expect(b.pool.pick(MODEL)?.id).not.toBe(key(b, 0).id)
    expect(b.events).toEqual([])
    expect(b.changes).toBe(0)
    await sleep(50)
    expect(a.changes).toBe(1) // nothing came back to be written again
  })

  it('a cooldown reaches the other for that model only; an operator’s reset clears it there too, and enables', async () => {
    const [a, b] = [await start(), await start()]
    a.pool.apply(key(a, 1), rateLimited(60), MODEL)
    await until(() => b.pool.refusePinned(key(b, 1).id, MODEL) !== undefined, 1000)
    expect(b.pool.refusePinned(key(b, 1).id, MODEL)).toMatchObject({ status: 429 })
    expect(b.pool.refusePinned(key(b, 1).id, 'gemini-2.5-pro')).toBeUndefined()
    for (let i = 0; i < 6; i++) expect(b.pool.pick(MODEL)?.id).not.toBe(key(b, 1).id)

    a.pool.disable(key(a, 2))
    await until(() => b.pool.health(key(b, 2)).disabled?.byOperator === true, 1000)
    a.pool.reset(key(a, 1))
    a.pool.reset(key(a, 2))
    await until(() => b.pool.refusePinned(key(b, 1).id, MODEL) === undefined && !b.pool.health(key(b, 2)).disabled, 1000)
    const picked = new Set(Array.from({ length: 6 }, () => b.pool.pick(MODEL)?.id))
    expect(picked).toEqual(new Set(b.pool.keys.map((k) => k.id)))
    expect(b.events).toEqual([])
  })

  it('older news never undoes newer: a success on one does not bring back a key the other disabled, nor shorten a cooldown', async () => {
    const [a, b] = [await start(), await start()]
    // b counts a failure of key 0, so its next success is a change it writes and announces.
    b.pool.apply(key(b, 0), { class: 'upstream-error', retry: true, effect: { kind: 'strike', reason: '503' }, reason: '503' })
    await until(() => a.pool.health(key(a, 0)).strikes === 1, 1000)
    a.pool.disable(key(a, 0), 'taken out by the operator')
    // Before b hears of it, a request in flight on b succeeds with that key.
    b.pool.apply(key(b, 0), { class: 'ok', retry: false, effect: { kind: 'success' }, reason: 'ok' }, MODEL)
    // b's news (no strikes now) reaches a, a's (disabled) reaches b; each keeps the newer part.
    await until(() => a.pool.health(key(a, 0)).strikes === 0 && b.pool.health(key(b, 0)).disabled !== undefined, 1000)
    expect(a.pool.health(key(a, 0)).disabled).toMatchObject({ byOperator: true })
    expect(b.pool.health(key(b, 0)).disabled).toMatchObject({ byOperator: true, reason: 'taken out by the operator' })

    a.pool.apply(key(a, 1), rateLimited(120), MODEL)
    b.pool.apply(key(b, 1), rateLimited(30), MODEL) // a shorter one, crossing on the bus
    const longer = () => [a, b].every((instance) => (instance.pool.refusePinned(key(instance, 1).id, MODEL)?.retryAfterSeconds ?? 0) > 100)
    await until(longer, 1000, 'the longer cooldown on both')
    await sleep(100) // both messages have arrived by now: neither shortened it
    expect(longer()).toBe(true)
  })

  it('a first failure of a key on one, crossing the other’s disable of it, does not bring the key back', async () => {
    const [a, b] = [await start(), await start()]
    a.pool.apply(key(a, 2), invalid)
    // A millisecond later, before b hears of it, a request in flight there fails with that key: b's first news of it.
    for (const at = Date.now(); Date.now() === at;);
    b.pool.apply(key(b, 2), { class: 'upstream-error', retry: true, effect: { kind: 'strike', reason: '503' }, reason: '503' })
    await until(() => a.pool.health(key(a, 2)).strikes === 1 && b.pool.health(key(b, 2)).disabled !== undefined, 1000)
    expect(a.pool.health(key(a, 2)).disabled).toMatchObject({ reason: 'API key not valid' })
  })

  it('an instance that missed the messages catches up from storage: when it re-reads, and a new pool of it at once', async () => {
    const a = await start()
    const deaf = await start({ bus: false })
    a.pool.apply(key(a, 2), invalid)
    a.pool.apply(key(a, 1), rateLimited(60), MODEL)
    await a.store.flush()
    await sleep(50)
    expect(deaf.pool.health(key(deaf, 2)).disabled).toBeUndefined()
    expect(await deaf.store.refresh()).toBe(2)
    expect(deaf.pool.health(key(deaf, 2)).disabled).toBeDefined()
    expect(deaf.pool.refusePinned(key(deaf, 1).id, MODEL)).toMatchObject({ status: 429 })
    expect(await deaf.store.refresh()).toBe(0)
    // A reload builds a new pool: it starts from what is known, not from nothing.
    const next = new KeyPool(SECRETS, { maxFailures: 3, idOf, onChange: deaf.store.save })
    expect(await deaf.store.load(next)).toBe(2)
    expect(next.health(next.keys[2]!).disabled).toBeDefined()
    expect(next.refusePinned(next.keys[1]!.id, MODEL)).toMatchObject({ status: 429 })
    expect(deaf.events).toEqual([])
  })

  it('re-reads on its own every refreshMs', async () => {
    const a = await start()
    const deaf = await start({ bus: false, refreshMs: 100 })
    a.pool.apply(key(a, 0), invalid)
    await a.store.flush()
    await until(() => deaf.pool.health(key(deaf, 0)).disabled !== undefined, 1000)
  })

  it('a record in storage that is not one (written by hand, an older shape) is ignored or read as the oldest news', async () => {
    const a = await start()
    await a.shared.storage.setItem(`keys:health:${key(a, 0).id}`, 'not a record')
    await a.shared.storage.setItem(`keys:health:${key(a, 1).id}`, {
      strikes: 2,
      cooldowns: { [MODEL]: { until: Date.now() + 60_000, reason: 'rate-limited' } },
    })
    expect(await a.store.refresh()).toBe(1)
    expect(a.pool.health(key(a, 0))).toEqual({ strikes: 0, cooldowns: {} })
    expect(a.pool.health(key(a, 1)).strikes).toBe(2)
    expect(a.pool.refusePinned(key(a, 1).id, MODEL)).toMatchObject({ status: 429 })
  })
})
