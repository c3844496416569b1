import { setTimeout as sleep } from 'node:timers/promises'
import type { Outcome, RequestContext } from '../context.ts'
import { GatewayError } from '../errors.ts'
import type { ConfirmRefusal } from '../keys/confirm.ts'
import type { Verdict } from '../keys/judge.ts'
import { pinnedRefusal } from '../keys/pinned.ts'
import type { KeyPool, PoolKey } from '../keys/pool.ts'
import { defineStage, type Stage } from '../pipeline.ts'
import { EventStream } from '../stream.ts'
import type { OperationTable } from '../upstream/operations.ts'
import { race, type Entrant, type Hedging } from './hedge.ts'
import { release, resume, runAttempt, startRecord, type AttemptEnv, type AttemptResult, type EmptyAnswer } from './internal/attempt.ts'
import { toClientError } from './internal/failures.ts'

export interface KeySelectOptions {
  /** The gateway's pool; a request whose `ctx.pool` a plugin set draws from that one instead. */
  pool: KeyPool
  /** MAX_RETRIES: attempts per request, each on a different key. */
  maxRetries: number
  /** Settles refusals the judge could not pin on the key or the request (a fixed request on the same key). */
  confirm: ConfirmRefusal
  operations: OperationTable
  /** KEY_WAIT_SECONDS in ms: how long a request may wait for a cooling key to come back (0: it fails at once). */
  waitMs?: number
  /** Hedged requests (HEDGE_MODE); off when not given. */
  hedging?: Hedging
}

/** One request's way through its attempts. */
interface RequestState extends AttemptEnv {
  /** Keys this request tried, or found at a cap. */
  tried: Set<string>
  /** How long the request may wait for a cooling key (0: not at all), and until when, once it first waited. */
  waitMs: number
  waitUntil: number
  failure?: { error: unknown; verdict: Verdict }
  /** The last empty answer, kept open in case no key does better: it is still Google's answer. */
  emptyAnswer?: EmptyAnswer
}

/**
 * Picks a key for each attempt, runs the rest of the pipeline with it, lets the judge classify what came back,
 * applies the verdict to the key's health, and tries another key while that is worth it and nothing has reached
 * the client. A stream counts as delivered from its first event on: later failures end it with an error, never a
 * retry that would splice two answers together. Keys at a cap are skipped; when every key is cooling down, a request
 * may wait for the first to come back; a hedged request races a second key against a slow first one.
 */
export function keySelectStage({ pool: gatewayPool, maxRetries, confirm, operations, waitMs = 0, hedging }: KeySelectOptions): Stage {
  return defineStage('key-select', async (ctx, next) => {
    const pool = ctx.pool ?? gatewayPool
    // A pool of keys that belong to another API root (Vertex Express) sends its requests there.
    if (pool.baseUrl) ctx.baseUrl ??= pool.baseUrl
    const model = ctx.request.upstreamModel
    const pinned = ctx.pinnedKey
    const refusal = pinned && pinnedRefusal(pool, pinned, model)
    if (refusal) throw refusal
    const hedge = !pinned && hedging?.applies(ctx.request.operation) ? hedging : undefined
    const state: RequestState = { ctx, next, pool, spec: operations(ctx.request.operation), confirm, model, tried: new Set(), waitMs, waitUntil: 0 }
    if (hedge?.observe) state.onFirstByte = (ms) => hedge.observe!(model, ms)

    const budget = pinned ? 1 : maxRetries
    for (let attempt = 1; attempt <= budget;) {
      const key = pinned ? pool.get(pinned.id) : await chooseKey(state)
      if (!key) break
      state.tried.add(key.id)
      if (!hedge || attempt === budget) {
        const settled = settle(state, await runAttempt(state, key, startRecord(ctx, key, attempt++), ctx))
        if (settled === 'stop') break
        if (settled) return settled
        continue
      }
      const round = await hedgedRound(state, key, attempt, hedge.delayFor(model))
      attempt += round.started
      let stop = false
      for (const result of round.results) {
        const settled = settle(state, result)
        if (settled === 'stop') stop = true
        else if (settled) return settled
      }
      if (stop) break
    }

    // Out of attempts or keys: an empty answer is still Google's answer; otherwise the last real failure.
    const { emptyAnswer, failure } = state
    if (emptyAnswer)
      return 'outcome' in emptyAnswer ? emptyAnswer.outcome : { kind: 'stream', chunks: new EventStream(resume(emptyAnswer.first, emptyAnswer.rest)) }
    if (failure) throw toClientError(failure.error, failure.verdict, pool.unavailable(model))
    const unavailable = pool.unavailable(model)
    throw new GatewayError(unavailable.status, unavailable.message, {
      headers: unavailable.retryAfterSeconds ? { 'retry-after': String(unavailable.retryAfterSeconds) } : {},
    })
  })
}

/** Takes in one attempt's result: the outcome to answer with, 'stop' when no other key is worth trying, else undefined. */
function settle(state: RequestState, result: AttemptResult): Outcome | 'stop' | undefined {
  switch (result.kind) {
    case 'thrown':
      state.emptyAnswer = release(state.emptyAnswer)
      throw result.error
    case 'answer':
      state.emptyAnswer = release(state.emptyAnswer)
      state.ctx.key = result.key
      return result.outcome
    case 'failed':
      state.failure = result
      state.emptyAnswer = release(state.emptyAnswer)
      return !result.verdict.retry || state.ctx.signal.aborted ? 'stop' : undefined
    case 'empty':
      release(state.emptyAnswer)
      state.emptyAnswer = result.answer
      state.failure = result
      return undefined
  }
}

/**
 * The next key for an attempt: one the pool picks and the caps admit (a key found at its cap is held out by the pool,
 * and the next one is tried). When no key can serve because every one is cooling down, and the request may wait,
 * it waits for the first to come back and looks again, for `waitMs` at most in all.
 */
async function chooseKey(state: RequestState): Promise<PoolKey | undefined> {
  const { pool, model, tried } = state
  const signal = state.ctx.signal
  for (;;) {
    const key = pool.pick(model, tried)
    if (key) {
      const admitted = pool.admit(key, model)
      if (!admitted || (await admitted)) return key
      tried.add(key.id)
      continue
    }
    if (state.waitMs === 0 || signal.aborted) return undefined
    const { until } = pool.unavailable(model)
    const now = Date.now()
    state.waitUntil ||= now + state.waitMs
    if (until === undefined || until > state.waitUntil) return undefined
    const waited = await sleep(Math.max(1, until - now), true, { signal }).catch(() => false)
    if (!waited) return undefined
    // The keys this request tried may be the ones that are back.
    tried.clear()
  }
}

interface Racer extends Entrant<AttemptResult> {
  key: PoolKey
  /** Marks its log row as the loser's, whatever it settled as. */
  lost(winner: PoolKey): void
}

/**
 * A first attempt on `key`; when it has no first byte after `delayMs`, a second on another key, each in a context of
 * its own (its own signal, so the loser can be cancelled). The first answer wins; the loser is logged as cancelled,
 * with why, and is not judged for it. Both count toward their keys' caps (the second is admitted like any attempt).
 */
async function hedgedRound(state: RequestState, key: PoolKey, attempt: number, delayMs: number): Promise<{ results: AttemptResult[]; started: number }> {
  const { ctx } = state
  const start = (racer: PoolKey, number: number): Racer => {
    const controller = new AbortController()
    const record = startRecord(ctx, racer, number)
    return {
      key: racer,
      settled: runAttempt(state, racer, record, attemptContext(ctx, AbortSignal.any([ctx.signal, controller.signal]))),
      cancel: () => controller.abort(),
      lost(winner) {
        record.failureClass = 'client-cancelled'
        record.reason = `cancelled: lost a hedged race to key ${winner.label} (the second key starts after ${Math.round(delayMs)} ms without a first byte)`
      },
    }
  }
  const first = start(key, attempt)
  let second: Racer | undefined
  const { results, started, loser } = await race(
    first,
    delayMs,
    async () => {
      const next = await chooseKey({ ...state, waitMs: 0 })
      if (!next) return undefined
      state.tried.add(next.id)
      return (second = start(next, attempt + 1))
    },
    decisive,
  )
  if (loser) {
    const winner = loser === first ? second!.key : first.key
    loser.lost(winner)
    // Settled after its cancel: nothing of it is used, and its row says why (runAttempt wrote its own first).
    void loser.settled.then((result) => {
      if (result.kind === 'answer') result.discard()
      if (result.kind === 'empty') release(result.answer)
      loser.lost(winner)
    })
  }
  return { results, started }
}

/** An answer, a refusal another key would get too, or our own failure: nothing left to race for. */
const decisive = (result: AttemptResult) => result.kind === 'answer' || result.kind === 'thrown' || (result.kind === 'failed' && !result.verdict.retry)

/** The request's context with a signal and a key of the attempt's own; everything else (attempts, state) is shared. */
function attemptContext(ctx: RequestContext, signal: AbortSignal): RequestContext {
  return Object.create(ctx, { signal: { value: signal }, key: { value: undefined, writable: true } }) as RequestContext
}
