import { Payload } from './payload.ts'
import { completeEventsEnd, sseData, terminated } from './sse.ts'

// Symbols from the global registry: should core be loaded twice, every copy still recognises the others' streams.
/** Set on a stream that can hand out its batches. */
const BATCHES = Symbol.for('gemgate.eventBatches')
const BATCH = Symbol.for('gemgate.eventBatch')

/**
 * Events that arrived together: what one network read of an upstream SSE stream completed (several events, with
 * the upstream's own framing), or one Payload from a stage that makes its own. Whoever only forwards (the native SSE
 * dialect, the OpenAI pass-through) writes `sse` as it is; whoever looks inside asks for `texts` or `payloads`, which
 * are decoded, split and wrapped on first use only.
 */
export class EventBatch {
  /** The brand `isBatch` looks for. */
  get [BATCH](): true {
    return true
  }

  /** The events' bytes exactly as the upstream framed them (SSE), when they came from an SSE stream. */
  readonly sse: Uint8Array | undefined
  #texts: readonly string[] | undefined
  #payloads: readonly Payload[] | undefined

  private constructor(sse: Uint8Array | undefined, payloads: readonly Payload[] | undefined) {
    this.sse = sse
    this.#payloads = payloads
  }

  /** Complete SSE events (each ends with its blank line). */
  static fromSse(bytes: Uint8Array): EventBatch {
    return new EventBatch(bytes, undefined)
  }

  static of(payload: Payload): EventBatch {
    return payload.keepAlive ? EventBatch.keepAlive : new EventBatch(undefined, [payload])
  }

  /** A sign of life without content (see Payload.keepAlive): every dialect writes its wire's heartbeat for it. */
  static readonly keepAlive: EventBatch = new EventBatch(undefined, [Payload.keepAlive])

  get keepAlive(): boolean {
    return this === EventBatch.keepAlive
  }

  /** Each event's `data`, in order; an SSE comment or an event without data lines counts for nothing. */
  get texts(): readonly string[] {
    return (this.#texts ??= this.sse ? sseData(this.sse) : this.keepAlive ? [] : this.#payloads!.map((payload) => payload.text))
  }

  /** The first event, undefined for a batch without one (a keep-alive, SSE comments); decodes no further than it. */
  firstEvent(): Payload | undefined {
    if (this.keepAlive) return undefined
    if (this.#payloads) return this.#payloads[0]
    const [text] = sseData(this.sse!, 1)
    return text === undefined ? undefined : Payload.fromText(text)
  }

  /**
   * The same as `texts`, for a reader that looks once while the batch travels on (key-select's checks): not kept on
   * the batch, so a batch that only gets forwarded holds its bytes and nothing decoded from them.
   */
  textsOnce(): readonly string[] {
    return this.#texts ?? (this.sse ? sseData(this.sse) : this.texts)
  }

  get payloads(): readonly Payload[] {
    return (this.#payloads ??= this.texts.map((text) => Payload.fromText(text)))
  }
}

/**
 * A stream outcome's chunks read a batch at a time: the stages of core that only watch a stream pass batches
 * through (one step per network read, not per event), and the forwarding dialects write the upstream's bytes. As an
 * AsyncIterable<Payload> it is what StreamOutcome promises plugins: one Payload per event.
 */
export class EventStream implements AsyncIterable<Payload> {
  readonly [BATCHES]: AsyncIterable<EventBatch>

  constructor(batches: AsyncIterable<EventBatch>) {
    this[BATCHES] = batches
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Payload> {
    for await (const batch of this[BATCHES]) {
      // Payloads made as they are asked for and kept by no one else: a reader that parses each event holds one at a time.
      if (batch.sse) for (const text of batch.textsOnce()) yield Payload.fromText(text)
      else yield* batch.payloads
    }
  }
}

/**
 * The events of an SSE byte stream, a batch per network read: the complete events each read finished, as bytes (no
 * decoding; a copy only to join an event that spans reads). A last event without its blank line still counts.
 */
export async function* readSseBatches(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<EventBatch> {
  // The pieces of events not complete yet, and their last two bytes: a blank line may straddle two reads.
  let pending: Uint8Array[] = []
  let seam: Uint8Array = NOTHING
  for await (const piece of bytes) {
    if (piece.length === 0) continue
    let end = completeEventsEnd(piece)
    if (end === 0 && pending.length > 0) end = Math.max(0, completeEventsEnd(Buffer.concat([seam, piece.subarray(0, 2)])) - seam.length)
    if (end === 0) {
      pending.push(piece)
      seam = lastTwoBytes(pending)
      continue
    }
    const head = end === piece.length ? piece : piece.subarray(0, end)
    const events = pending.length === 0 ? head : Buffer.concat([...pending, head])
    pending = end === piece.length ? [] : [piece.subarray(end)]
    seam = lastTwoBytes(pending)
    yield EventBatch.fromSse(events)
  }
  if (pending.length > 0) yield EventBatch.fromSse(terminated(Buffer.concat(pending)))
}

const NOTHING: Uint8Array = new Uint8Array(0)

function lastTwoBytes(pieces: readonly Uint8Array[]): Uint8Array {
  const last = pieces.at(-1)
  if (!last) return NOTHING
  return (last.length >= 2 || pieces.length === 1 ? last : Buffer.concat(pieces.slice(-2))).subarray(-2)
}

/** The batches of any stream outcome's chunks: an EventStream's own, otherwise one batch per Payload. */
export function batchesOf(chunks: AsyncIterable<Payload>): AsyncIterable<EventBatch> {
  return batchesIn(chunks) ?? onePerPayload(chunks)
}

/**
 * A stream outcome's chunks as they arrive: an EventStream's batches (a network read each), or the Payloads of any
 * other stream (a stage's own, made one event at a time) as they are, with no wrapper and no extra step per event.
 */
export function arrivalsOf(chunks: AsyncIterable<Payload>): AsyncIterable<EventBatch | Payload> {
  return batchesIn(chunks) ?? chunks
}

export const isBatch = (arrival: EventBatch | Payload): arrival is EventBatch => BATCH in arrival

/**
 * `chunks` through `watch`, a generator that yields what it gets (it only looks, or acts when the stream ends): batch
 * by batch for an EventStream, which stays one, and Payload by Payload for any other stream.
 */
export function watched(chunks: AsyncIterable<Payload>, watch: <T>(items: AsyncIterable<T>) => AsyncIterable<T>): AsyncIterable<Payload> {
  const batches = batchesIn(chunks)
  return batches ? new EventStream(watch(batches)) : watch(chunks)
}

const batchesIn = (chunks: AsyncIterable<Payload>): AsyncIterable<EventBatch> | undefined => (chunks as Partial<EventStream>)[BATCHES]

async function* onePerPayload(chunks: AsyncIterable<Payload>): AsyncGenerator<EventBatch> {
  for await (const payload of chunks) yield EventBatch.of(payload)
}
