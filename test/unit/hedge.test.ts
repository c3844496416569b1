import { describe, expect, it } from 'vitest'
import { createHedging, LatencyWindow, race, type Entrant } from '../../core/stages/hedge.ts'

describe('the hedge bound', () => {
  it('a window has no p95 before 20 times; then the nearest-rank 95th percentile, refreshed as times come in', () => {
    const window = new LatencyWindow()
    for (let ms = 1; ms <= 19; ms++) window.add(ms)
    expect(window.p95()).toBeUndefined()
    for (let ms = 20; ms <= 100; ms++) window.add(ms)
    expect(window.p95()).toBe(95)
    // 256 times are kept: once a run of slow ones has replaced the rest, the p95 is theirs.
    for (let i = 0; i < 256; i++) window.add(1_000 + i)
    expect(window.p95()).toBe(1_243)
  })

  it('fixed: always the bound, learning nothing; p95: the bound until the model has 20 times, then its own p95', () => {
    const fixed = createHedging({ mode: 'fixed', afterMs: 800 })
    expect(fixed.delayFor('gemini-2.5-flash')).toBe(800)
    expect(fixed.observe).toBeUndefined()
    const p95 = createHedging({ mode: 'p95', afterMs: 800 })
    for (let i = 1; i <= 19; i++) p95.observe!('gemini-2.5-flash', i * 10)
    expect(p95.delayFor('gemini-2.5-flash')).toBe(800)
    p95.observe!('gemini-2.5-flash', 200)
    expect(p95.delayFor('gemini-2.5-flash')).toBe(190)
    expect(p95.delayFor('gemini-2.5-pro')).toBe(800)
  })

  it.each([
    ['generateContent', true],
    ['streamGenerateContent', true],
    ['openai.chat', true],
    ['embedContent', true],
    ['openai.images', false],
    ['imagen.predict', false],
    ['files.upload', false],
    ['listModels', false],
  ])('%s is hedged: %s', (operation, hedged) => {
    expect(createHedging({ mode: 'fixed', afterMs: 1 }).applies(operation)).toBe(hedged)
  })
})

/** An attempt the test settles by hand. */
function entrant(name: string) {
  let settle!: (result: string) => void
  const settled = new Promise<string>((resolve) => (settle = resolve))
  const state = { cancelled: false }
  const made: Entrant<string> & { name: string } = {
    name,
    settled,
    cancel: () => {
      state.cancelled = true
      settle(`${name} cancelled`)
    },
  }
  return { entrant: made, settle, state }
}

const decisive = (result: string) => result.endsWith('answer')
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('racing two keys', () => {
  it('a first attempt that settles within the bound runs alone', async () => {
    const first = entrant('first')
    let asked = false
    const racing = race(
      first.entrant,
      50,
      async () => {
        asked = true
        return undefined
      },
      decisive,
    )
    first.settle('first answer')
    expect(await racing).toEqual({ results: ['first answer'], started: 1 })
    await tick(80)
    expect(asked).toBe(false)
  })

  it('past the bound a second starts; the first answer wins and the other is cancelled', async () => {
    const first = entrant('first')
    const second = entrant('second')
    const racing = race(first.entrant, 10, async () => second.entrant, decisive)
    await tick(30)
    second.settle('second answer')
    const { results, started, loser } = await racing
    expect({ results, started, loser: loser?.name }).toEqual({ results: ['second answer'], started: 2, loser: 'first' })
    expect(first.state.cancelled).toBe(true)
    expect(second.state.cancelled).toBe(false)
  })

  it('the slow first can still win; a failure of one leaves the race to the other', async () => {
    const first = entrant('first')
    const second = entrant('second')
    const racing = race(first.entrant, 10, async () => second.entrant, decisive)
    await tick(30)
    second.settle('second failed (429)')
    await tick(5)
    first.settle('first answer')
    expect(await racing).toEqual({ results: ['second failed (429)', 'first answer'], started: 2 })
    expect(first.state.cancelled || second.state.cancelled).toBe(false)
  })

  it('no second key to be had: the first runs on alone', async () => {
    const first = entrant('first')
    const racing = race(first.entrant, 10, async () => undefined, decisive)
    await tick(30)
    first.settle('first answer')
    expect(await racing).toEqual({ results: ['first answer'], started: 1 })
  })
})
