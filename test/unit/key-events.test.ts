import { createConsola, type LogObject } from 'consola'
import { describe, expect, it } from 'vitest'
import { createIdHasher } from '../../core/identity.ts'
import { createKeyEventLog, type KeyEvent } from '../../core/keys/events.ts'
import type { Verdict } from '../../core/keys/judge.ts'
import { KeyPool, type KeyHealth } from '../../core/keys/pool.ts'
import { createRecheck } from '../../core/keys/recheck.ts'

const MODEL = 'gemini-2.5-flash'
const idOf = createIdHasher('test-deployment-secret-of-32-chars')
const ok: Verdict = { class: 'ok', retry: false, effect: { kind: 'success' }, reason: 'ok' }
const strike: Verdict = { class: 'ambiguous', retry: true, effect: { kind: 'strike', reason: '401' }, reason: '401' }
const invalid: Verdict = { class: 'invalid-key', retry: true, effect: { kind: 'disable', reason: 'API key not valid' }, reason: 'API key not valid' }
const coolFor = (ms: number, now: number, model = MODEL): Verdict => ({
  class: 'rate-limited',
  retry: true,
  effect: { kind: 'cooldown', model, until: now + ms, reason: 'rate-limited' },
  reason: `RPM limit, retry in ${ms / 1000}s`,
})

function recordingLogger() {
  const lines: LogObject[] = []
  return { logger: createConsola({ level: 5, reporters: [{ log: (entry) => void lines.push(entry) }] }), lines }
}

/** A pool whose events go into a log, as the gateway wires them. */
function poolWithEvents(n: number, maxFailures = 3) {
  const clock = { now: 1_000_000 }
  const { logger, lines } = recordingLogger()
  const log = createKeyEventLog({ logger, now: () => clock.now })
  const secrets = Array.from({ length: n }, (_, i) => `AIzaSyEVENTS-${i}-xxxxxxxxxxxxxxxxxxxxxx`)
  const pool = new KeyPool(secrets, { maxFailures, now: () => clock.now, idOf, onEvent: (event) => log.record({ ...event, pool: 'gemini' }) })
  const kinds = () => log.list({ limit: 1000 }).map((event) => [event.kind, pool.get(event.keyId)!.index, event.model])
  return { pool, clock, log, lines, secrets, kinds }
}

describe('key event log', () => {
  const event = (i: number): Omit<KeyEvent, 'id' | 'at'> => ({ keyId: `k${i}`, label: `AIza...${i}`, pool: 'gemini', kind: 'disabled', reason: `reason ${i}` })

  it('gives increasing ids, lists after an id, the newest first cut by the limit, oldest first in order', () => {
    const { logger } = recordingLogger()
    const log = createKeyEventLog({ logger, capacity: 5, now: () => 42 })
    expect(log.list()).toEqual([])
    for (let i = 1; i <= 3; i++) expect(log.record(event(i))).toMatchObject({ id: i, at: 42, keyId: `k${i}` })
    expect(log.list().map((e) => e.id)).toEqual([1, 2, 3])
    expect(log.list({ after: 1 }).map((e) => e.id)).toEqual([2, 3])
    expect(log.list({ after: 3 })).toEqual([])
    expect(log.list({ limit: 2 }).map((e) => e.id)).toEqual([2, 3])
    expect(log.list({ limit: 0 })).toEqual([])
    expect(log.list({ after: 99 })).toEqual([])
  })

  it('holds only the last `capacity` events', () => {
    const { logger } = recordingLogger()
    const log = createKeyEventLog({ logger, capacity: 5 })
    for (let i = 1; i <= 12; i++) log.record(event(i))
    expect(log.list().map((e) => e.id)).toEqual([8, 9, 10, 11, 12])
    expect(log.list({ after: 2 }).map((e) => e.id)).toEqual([8, 9, 10, 11, 12])
    expect(log.list({ after: 10 }).map((e) => e.reason)).toEqual(['reason 11', 'reason 12'])
    expect(() => createKeyEventLog({ logger, capacity: 0 })).toThrow(/capacity/)
  })

  it('writes one line per event: masked key, pool, what and why; warn when a key goes out, info when it comes back', () => {
    const { logger, lines } = recordingLogger()
    const log = createKeyEventLog({ logger })
    log.record({
      keyId: 'a',
      label: 'AIza...x9Qk',
      pool: 'vertex-express',
      kind: 'cooled',
      model: MODEL,
      until: Date.UTC(2026, 10, 28, 12),
      reason: 'RPM limit',
    })
    log.record({ keyId: 'a', label: 'AIza...x9Qk', pool: 'vertex-express', kind: 'restored', model: MODEL, reason: 'cooldown ran out (rate-limited)' })
    log.record({ keyId: 'a', label: 'AIza...x9Qk', pool: 'gemini', kind: 'reset', reason: 'reset by an operator' })
    expect(lines.map((line) => [line.type, line.args.join(' ')])).toEqual([
      ['warn', `key AIza...x9Qk (vertex-express) cooled down for ${MODEL} until 2026-11-28T12:00:00.000Z: RPM limit`],
      ['info', `key AIza...x9Qk (vertex-express) back for ${MODEL}: cooldown ran out (rate-limited)`],
      ['info', 'key AIza...x9Qk (gemini) reset: reset by an operator'],
    ])
  })
})

describe('key pool events', () => {
  it('a disable (by verdict or by strikes) is one event, however many verdicts follow', () => {
    const { pool, kinds, lines, secrets, log } = poolWithEvents(2, 2)
    const [a, b] = pool.keys
    pool.apply(a!, invalid)
    pool.apply(a!, invalid)
    pool.apply(b!, strike)
    pool.apply(b!, strike)
    pool.apply(b!, strike)
    expect(kinds()).toEqual([
      ['disabled', 0, undefined],
      ['disabled', 1, undefined],
    ])
    expect(log.list()[1]!.reason).toBe('2 failures in a row; last: 401')
    expect(lines.map((line) => line.type)).toEqual(['warn', 'warn'])
    // Masked in the log: never the key itself.
    for (const secret of secrets) expect(JSON.stringify(lines.map((line) => line.args))).not.toContain(secret)
    expect(lines[0]!.args[0]).toBe(`key ${a!.label} (gemini) disabled: API key not valid`)
  })

  it('a cooldown is one event when it starts, with its model and end; its end brings the key back with one event', () => {
    const { pool, clock, kinds, log } = poolWithEvents(2)
    const [a, b] = pool.keys
    pool.apply(a!, coolFor(30_000, clock.now))
    pool.apply(a!, coolFor(60_000, clock.now)) // extended while cooling: no new event
    pool.apply(b!, coolFor(10_000, clock.now, 'gemini-2.5-pro'))
    expect(log.list()[0]).toMatchObject({ kind: 'cooled', model: MODEL, until: clock.now + 30_000, reason: 'RPM limit, retry in 30s', pool: 'gemini' })
    clock.now += 60_000
    pool.pick(MODEL) // released on the way
    pool.sweep() // the other model nobody asked for: released by the sweep
    pool.sweep()
    expect(kinds()).toEqual([
      ['cooled', 0, MODEL],
      ['cooled', 1, 'gemini-2.5-pro'],
      ['restored', 0, MODEL],
      ['restored', 1, 'gemini-2.5-pro'],
    ])
    expect(log.list().at(-1)!.reason).toBe('cooldown ran out (rate-limited)')
  })

  it('a disabled key cooling down or coming out of a cooldown makes no event: it is out either way', () => {
    const { pool, clock, kinds } = poolWithEvents(2)
    const a = pool.keys[0]!
    pool.apply(a, invalid)
    pool.apply(a, coolFor(1_000, clock.now))
    clock.now += 2_000
    pool.sweep()
    expect(kinds()).toEqual([['disabled', 0, undefined]])
  })

  it('enable and reset are events; enable of a key that is in is not', () => {
    const { pool, kinds, log } = poolWithEvents(2)
    const a = pool.keys[0]!
    pool.enable(a)
    pool.apply(a, invalid)
    pool.enable(a, 'a re-check passed (ok)')
    pool.reset(a)
    expect(kinds()).toEqual([
      ['disabled', 0, undefined],
      ['enabled', 0, undefined],
      ['reset', 0, undefined],
    ])
    expect(log.list().map((event) => event.reason)).toEqual(['API key not valid', 'a re-check passed (ok)', 'reset by an operator'])
  })

  it('health read back from storage makes no event', () => {
    const { pool, clock, kinds } = poolWithEvents(2)
    pool.adopt(pool.keys[0]!, { strikes: 0, cooldowns: { [MODEL]: { until: clock.now + 5_000, reason: 'rate-limited' } }, disabled: { reason: 'x', at: 1 } })
    expect(kinds()).toEqual([])
  })
})

describe('operator disable', () => {
  it('takes a key out of every rotation with the reason given, once, and stays serialisable', () => {
    const { pool, kinds, log } = poolWithEvents(3)
    const b = pool.keys[1]!
    pool.apply(b, coolFor(30_000, 1_000_000)) // a per-model rotation exists too
    pool.disable(b, 'billing dispute')
    pool.disable(b, 'again')
    expect(pool.pick(MODEL)?.index).not.toBe(1)
    expect(new Set([0, 1, 2, 3].map(() => pool.pick('other-model')?.index))).toEqual(new Set([0, 2]))
    expect(kinds()).toEqual([
      ['cooled', 1, MODEL],
      ['disabled', 1, undefined],
    ])
    expect(log.list().at(-1)!.reason).toBe('billing dispute')
    const health = pool.health(b)
    expect(JSON.parse(JSON.stringify(health)).disabled).toEqual({ reason: 'billing dispute', at: 1_000_000, byOperator: true })
  })

  it('a verdict arriving afterwards does not rewrite it; disabling a key already out marks it as the operator’s', () => {
    const { pool, kinds } = poolWithEvents(2, 1)
    const [a, b] = pool.keys
    pool.disable(a!)
    pool.apply(a!, invalid)
    pool.apply(a!, strike)
    expect(pool.health(a!).disabled).toMatchObject({ reason: 'disabled by an operator', byOperator: true })
    pool.apply(b!, invalid)
    pool.disable(b!, 'leave it out')
    expect(pool.health(b!).disabled).toMatchObject({ reason: 'leave it out', byOperator: true })
    expect(kinds()).toEqual([
      ['disabled', 0, undefined],
      ['disabled', 1, undefined],
      ['disabled', 1, undefined],
    ])
  })

  it('survives a restart through stored health', () => {
    const { pool, secrets } = poolWithEvents(2)
    pool.disable(pool.keys[0]!, 'rotated out')
    const saved = JSON.parse(JSON.stringify(pool.health(pool.keys[0]!))) as KeyHealth
    const restarted = new KeyPool(secrets, { maxFailures: 3, idOf })
    restarted.adopt(restarted.keys[0]!, saved)
    expect(restarted.health(restarted.keys[0]!).disabled).toMatchObject({ reason: 'rotated out', byOperator: true })
    expect([1, 2, 3].map(() => restarted.pick(MODEL)?.index)).toEqual([1, 1, 1])
  })

  it('the re-check leaves a key an operator disabled alone; enable or reset brings it back', async () => {
    const { pool, kinds } = poolWithEvents(3)
    const [a, b, c] = pool.keys
    pool.apply(a!, invalid)
    pool.disable(b!)
    pool.apply(c!, invalid)
    const checked: number[] = []
    const recheck = createRecheck({
      pools: () => [pool],
      concurrency: 2,
      check: async (key) => {
        checked.push(key.index)
        // The operator disables c while its probe is out: the passing answer does not bring it back.
        if (key === c) pool.disable(c!, 'operator changed their mind')
        return ok
      },
    })
    expect(await recheck.runNow()).toEqual({ checked: 2, reenabled: 1 })
    expect(checked.sort()).toEqual([0, 2])
    expect(pool.health(a!).disabled).toBeUndefined()
    expect(pool.health(b!).disabled?.byOperator).toBe(true)
    expect(pool.health(c!).disabled?.reason).toBe('operator changed their mind')
    expect(await recheck.runNow()).toEqual({ checked: 0, reenabled: 0 })
    pool.enable(b!)
    pool.reset(c!)
    expect(pool.disabledKeys()).toEqual([])
    expect(kinds().filter(([kind]) => kind !== 'disabled')).toEqual([
      ['enabled', 0, undefined],
      ['enabled', 1, undefined],
      ['reset', 2, undefined],
    ])
  })
})

describe('re-check runs', () => {
  it('know which keys they are testing, and stop taking keys when aborted', async () => {
    const { pool } = poolWithEvents(4)
    for (const key of pool.keys) pool.apply(key, invalid)
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const recheck = createRecheck({
      pools: () => [pool],
      concurrency: 1,
      check: async (key) => {
        await gate
        return key.index === 0 ? ok : invalid
      },
    })
    const abort = new AbortController()
    const running = recheck.runNow(abort.signal)
    expect(recheck.runNow()).toBe(running) // joined, not doubled
    expect(pool.keys.map((key) => recheck.checking(key.id))).toEqual([true, false, false, false])
    abort.abort()
    release()
    expect(await running).toEqual({ checked: 1, reenabled: 1 })
    expect(pool.keys.map((key) => recheck.checking(key.id))).toEqual([false, false, false, false])
    expect(await recheck.runNow()).toEqual({ checked: 3, reenabled: 0 })
  })
})
