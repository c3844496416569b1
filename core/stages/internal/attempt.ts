// One upstream attempt of key-select: run the rest of the pipeline with one key, wait for the first event of a stream,
// let the judge classify what came back, apply the verdict, and tell the pool when the key's request ends.
import type { AttemptRecord, Outcome, RequestContext } from '../../context.ts'
import { GatewayError } from '../../errors.ts'
import type { ConfirmRefusal } from '../../keys/confirm.ts'
import { factsFromError } from '../../keys/facts.ts'
import { judgeAttempt, type Verdict } from '../../keys/judge.ts'
import type { KeyPool, PoolKey } from '../../keys/pool.ts'
import { Payload } from '../../payload.ts'
import type { Next } from '../../pipeline.ts'
import { asBuffer, sseData, sseEvents } from '../../sse.ts'
import { EventStream, batchesOf, type EventBatch } from '../../stream.ts'
import { UpstreamHttpError } from '../../upstream/gemini.ts'
import type { OperationSpec } from '../../upstream/operations.ts'
import { streamFailure } from './failures.ts'

/** What every attempt of one request shares. */
export interface AttemptEnv {
  /** The request's own context (an attempt may run in a context of its own: a hedged one has its own signal). */
  ctx: RequestContext
  next: Next
  pool: KeyPool
  spec: OperationSpec
  confirm: ConfirmRefusal
  model: string
  /** Told each successful attempt's time to its first byte (the hedge bound learns from it). */
  onFirstByte?: (ms: number) => void
}

export type EmptyAnswer = { outcome: Outcome } | { first: EventBatch; rest: AsyncIterator<EventBatch> }

export type AttemptResult =
  /** Google answered: a JSON answer, or a stream whose first event came. `discard` releases it when it is not used. */
  | { kind: 'answer'; key: PoolKey; outcome: Outcome; discard(): void }
  | { kind: 'failed'; error: unknown; verdict: Verdict }
  /** An empty answer, kept open in case no key does better: it is still Google's answer. */
  | { kind: 'empty'; answer: EmptyAnswer; error: GatewayError; verdict: Verdict }
  /** A plugin's refusal or our own failure: the request ends with it. */
  | { kind: 'thrown'; error: unknown }

/**
 * One attempt with `key`, recorded in `record`, in `attemptCtx` (the request's context, or one of a hedged attempt's
 * own). Never rejects. The key's request ends (pool.end) when the answer has fully left, or when the attempt failed.
 */
export async function runAttempt(env: AttemptEnv, key: PoolKey, record: AttemptRecord, attemptCtx: RequestContext): Promise<AttemptResult> {
  const { pool, spec, confirm, model } = env
  const operation = attemptCtx.request.operation
  pool.begin(key)
  attemptCtx.key = key
  const started = performance.now()
  let outcome: Outcome
  // A stream's first batch that holds an event, that event, and the batches after it.
  let first: EventBatch | undefined
  let firstEvent: Payload | undefined
  let rest: AsyncIterator<EventBatch> | undefined
  try {
    outcome = await env.next(attemptCtx)
    if (outcome.kind === 'stream') {
      rest = batchesOf(outcome.chunks)[Symbol.asyncIterator]()
      // Wait for the first event, so a failure or an empty stream can still be retried on another key. Keep-alives
      // before it say nothing about the answer (and cannot be sent before the stream is chosen): passed over.
      while (!first) {
        const head = await rest.next()
        if (head.done) break
        firstEvent = head.value.firstEvent()
        if (firstEvent) first = head.value
      }
    }
  } catch (error) {
    if (error instanceof GatewayError) {
      // A plugin's own refusal from inside the upstream call: the client's answer, not a key's fault.
      record.status = error.status
      record.failureClass = error.status < 500 ? 'client-error' : 'upstream-error'
      record.reason = error.message
      pool.end(key)
      return { kind: 'thrown', error }
    }
    const facts = factsFromError(error, { operation, model, now: Date.now() }, attemptCtx.signal.aborted)
    if (!facts) {
      // Our own failure (a plugin's exception, a bug): logged as such, never as an answer.
      record.failureClass = 'gateway-error'
      record.reason = String((error as Error)?.message ?? error)
      record.latencyMs = performance.now() - started
      pool.end(key)
      return { kind: 'thrown', error }
    }
    let verdict = judgeAttempt({ ...facts, modelServed: pool.modelServed(model) })
    if (verdict.effect.kind === 'confirm') verdict = await confirm(key, verdict, model, pool)
    finishRecord(record, started, facts.status ?? null, verdict, errorBodyOf(error))
    pool.apply(key, verdict, model)
    pool.end(key, verdict.class)
    return { kind: 'failed', error, verdict }
  }

  const body = outcome.kind === 'json' ? outcome.body.tryData() : firstEvent?.tryData()
  const status = outcome.kind === 'json' ? outcome.status : 200
  const partial = firstEvent !== undefined && !spec.ends(firstEvent.text)
  let verdict = judgeAttempt({ operation, model, now: Date.now(), status, body, partial, modelServed: pool.modelServed(model) })
  if (verdict.effect.kind === 'confirm') verdict = await confirm(key, verdict, model, pool)
  pool.apply(key, verdict, model)
  if (verdict.class === 'empty-answer') {
    finishRecord(record, started, status, verdict, firstEvent?.text ?? (outcome.kind === 'json' ? outcome.body.text : undefined))
    pool.end(key, verdict.class)
    const error = new GatewayError(502, `Gemini returned an empty answer on ${record.attempt} key(s).`)
    if (outcome.kind === 'json') return { kind: 'empty', answer: { outcome }, error, verdict }
    if (first) return { kind: 'empty', answer: { first, rest: rest! }, error, verdict }
    void rest?.return?.()
    return { kind: 'failed', error, verdict }
  }
  finishRecord(record, started, status, verdict)
  const firstByteMs = record.latencyMs
  env.onFirstByte?.(firstByteMs)
  if (outcome.kind === 'json') {
    record.usage = spec.usage(body)
    pool.countTokens(key, model, record.usage)
    pool.end(key, verdict.class, firstByteMs)
    return { kind: 'answer', key, outcome, discard() {} }
  }
  const chunks = new EventStream(committedStream(first!, rest!, { record, started, firstByteMs, ctx: attemptCtx, pool, key, spec }))
  return {
    kind: 'answer',
    key,
    outcome: { kind: 'stream', chunks },
    discard() {
      void rest!.return?.()
      pool.end(key)
    },
  }
}

export function startRecord(ctx: RequestContext, key: PoolKey, attempt: number): AttemptRecord {
  const record: AttemptRecord = {
    attempt,
    keyId: key.id,
    keyLabel: key.label,
    startedAt: Date.now(),
    latencyMs: 0,
    status: null,
    failureClass: 'ok',
    reason: '',
  }
  ctx.attempts.push(record)
  return record
}

function finishRecord(record: AttemptRecord, started: number, status: number | null, verdict: Verdict, errorBody?: string): void {
  record.latencyMs = performance.now() - started
  record.status = status
  record.failureClass = verdict.class
  record.reason = verdict.reason
  if (errorBody !== undefined) record.errorBody = errorBody
}

function errorBodyOf(error: unknown): string {
  return error instanceof UpstreamHttpError ? error.body : String((error as Error)?.message ?? error)
}

/** Closes a peeked stream we will not deliver, so its upstream connection goes back to the pool. */
export function release(empty: EmptyAnswer | undefined): undefined {
  if (empty && 'rest' in empty) void empty.rest.return?.()
  return undefined
}

/** A peeked stream put back together (used only for an empty answer kept as the fallback). */
export async function* resume(first: EventBatch, rest: AsyncIterator<EventBatch>): AsyncGenerator<EventBatch> {
  try {
    yield first
    for (let step = await rest.next(); !step.done; step = await rest.next()) yield step.value
  } finally {
    await rest.return?.()
  }
}

/**
 * The committed stream, passed on a batch at a time: records usage from the last event that carries it and turns a
 * broken or truncated stream into an error. The checks read the events' bytes: an event is decoded only when it may
 * end the answer (it holds one of the operation's endMarks) or, from the last one back, until one carries the usage;
 * nothing is parsed until the end, and then only the usage event.
 */
async function* committedStream(
  first: EventBatch,
  rest: AsyncIterator<EventBatch>,
  attempt: { record: AttemptRecord; started: number; firstByteMs: number; ctx: RequestContext; pool: KeyPool; key: PoolKey; spec: OperationSpec },
): AsyncGenerator<EventBatch> {
  const { record, started, ctx, pool, key } = attempt
  const { ends, usage, carriesUsage, endMarks } = attempt.spec
  const marks = endMarks?.map((mark) => Buffer.from(mark))
  let withUsage: string | undefined
  let ended = false
  let count = 0
  let complete = false
  const watch = (batch: EventBatch) => {
    if (!batch.sse) return watchTexts(batch.textsOnce())
    const bytes = asBuffer(batch.sse)
    const events = sseEvents(bytes)
    count += events.length / 2
    const textOf = (i: number) => sseData(bytes.subarray(events[i], events[i + 1]), 1)[0]
    if (!ended)
      ended = eventsMarked(bytes, events, marks).some((i) => {
        const text = textOf(i)
        return text !== undefined && ends(text)
      })
    for (let i = events.length - 2; i >= 0; i -= 2) {
      const text = textOf(i)
      if (text !== undefined && carriesUsage(text)) return void (withUsage = text)
    }
  }
  const watchTexts = (texts: readonly string[]) => {
    count += texts.length
    if (!ended) ended = texts.some((text) => ends(text))
    for (let i = texts.length - 1; i >= 0; i--) {
      if (carriesUsage(texts[i]!)) {
        withUsage = texts[i]
        break
      }
    }
  }
  try {
    watch(first)
    yield first
    for (let step = await rest.next(); !step.done; step = await rest.next()) {
      const batch = step.value
      if (!batch.keepAlive) watch(batch)
      yield batch
    }
    complete = true
  } catch (error) {
    const failure = streamFailure(error, ctx, count)
    record.failureClass = failure.verdict.class
    record.reason = failure.verdict.reason
    record.errorBody = failure.error.message
    pool.apply(key, failure.verdict, ctx.request.upstreamModel)
    throw failure.error
  } finally {
    void rest.return?.()
    record.latencyMs = performance.now() - started
    if (withUsage !== undefined) record.usage = usage(Payload.fromText(withUsage).tryData())
    pool.countTokens(key, ctx.request.upstreamModel, record.usage)
    if (!complete && record.failureClass === 'ok') {
      record.failureClass = 'client-cancelled'
      record.reason = `client left after ${count} chunk(s)`
    }
    if (complete && !ended) {
      record.failureClass = 'empty-answer'
      record.reason = `stream ended after ${count} chunk(s) without a finish reason`
    }
    pool.end(key, record.failureClass, attempt.firstByteMs)
  }
  if (!ended) throw new GatewayError(502, 'Gemini ended the stream without a finish reason; the answer is truncated.')
}

/**
 * The events (their index in `events`, sseEvents' pairs) whose bytes hold one of `marks`, in order; every event
 * without marks. Each mark is searched once through the whole read, not once per event.
 */
function eventsMarked(bytes: Buffer, events: readonly number[], marks: readonly Buffer[] | undefined): number[] {
  if (!marks) return Array.from({ length: events.length / 2 }, (_, n) => n * 2)
  const marked = new Set<number>()
  for (const mark of marks) {
    let event = 0
    for (let at = bytes.indexOf(mark); at !== -1; at = bytes.indexOf(mark, at + 1)) {
      while (event < events.length && events[event + 1]! < at + mark.length) event += 2
      if (event < events.length && events[event]! <= at) marked.add(event)
    }
  }
  return [...marked].sort((a, b) => a - b)
}
