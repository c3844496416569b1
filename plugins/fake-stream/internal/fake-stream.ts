import { GatewayError, Payload, type JsonOutcome, type Outcome, type RequestContext } from 'gemgate'
import { answerChunks } from './answer-chunks.ts'

type Settled = { outcome: Outcome } | { error: unknown }

const BEAT = Symbol('keep-alive due')

/**
 * Runs the rest of the pipeline (key-select with its retries on other keys, then the non-stream upstream call) and
 * answers as a stream: keep-alives every `intervalMs` while the answer is being made, then the answer as stream
 * events, then the end.
 *
 * The stream is only committed to when the first keep-alive is due. An answer or a failure that comes sooner is
 * answered as a real stream would be: a failure with its own HTTP status (a bad request, every key cooling down),
 * not a 200 that turns into an error event. Once keep-alives have gone out, a failure ends the stream as an error
 * event (each dialect's encoder turns the thrown GatewayError into its own).
 */
export async function fakeStream(ctx: RequestContext, answer: Promise<Outcome>, intervalMs: number): Promise<Outcome> {
  // Observed at once, so a failure that nobody reads any more (the client left) is never an unhandled rejection.
  const settled: Promise<Settled> = answer.then(
    (outcome) => ({ outcome }),
    (error: unknown) => ({ error }),
  )
  const first = await beatOrSettled(settled, intervalMs, ctx.signal)
  if (first !== BEAT) {
    if ('error' in first) throw first.error
    // answerChunks runs here, so an answer that is not JSON is still a 502 status, not an error event.
    const { outcome } = first
    return outcome.kind === 'json' && succeeded(outcome) ? { kind: 'stream', chunks: replay(answerChunks(outcome.body)) } : outcome
  }
  return { kind: 'stream', chunks: beatingStream(settled, intervalMs, ctx.signal) }
}

async function* beatingStream(settled: Promise<Settled>, intervalMs: number, signal: AbortSignal): AsyncGenerator<Payload> {
  let result: Settled | typeof BEAT
  do {
    yield Payload.keepAlive
    result = await beatOrSettled(settled, intervalMs, signal)
  } while (result === BEAT)
  if ('error' in result) throw result.error
  const { outcome } = result
  if (outcome.kind === 'stream') yield* outcome.chunks
  else if (succeeded(outcome)) yield* answerChunks(outcome.body)
  else throw new GatewayError(outcome.status, `Gemini answered ${outcome.status}.`, { upstreamBody: outcome.body.text })
}

/** An answer to turn into events; an error status (a plugin's wrapUpstream may return one) is a failure. */
const succeeded = (outcome: JsonOutcome) => outcome.status >= 200 && outcome.status <= 299

async function* replay(chunks: readonly Payload[]): AsyncGenerator<Payload> {
  yield* chunks
}

/**
 * Whichever comes first: the answer, or the next keep-alive. The timer is cleared either way, and at once when the
 * client leaves: from then on only the answer is awaited, which the aborted upstream call settles quickly, so the
 * attempt is recorded as cancelled before the request's log rows are written.
 */
function beatOrSettled(settled: Promise<Settled>, intervalMs: number, signal: AbortSignal): Promise<Settled | typeof BEAT> {
  if (signal.aborted) return settled
  let timer: NodeJS.Timeout | undefined
  const stop = () => clearTimeout(timer)
  const beat = new Promise<typeof BEAT>((resolve) => {
    timer = setTimeout(resolve, intervalMs, BEAT)
  })
  signal.addEventListener('abort', stop, { once: true })
  return Promise.race([settled, beat]).finally(() => {
    stop()
    signal.removeEventListener('abort', stop)
  })
}
