// Every request the gateway serves passes here once on the way in and once with its answer: the answer gets its
// Server-Timing header, and while metrics are on the request is counted. What is kept per request lives in the h3
// event context, which h3 would make anyway: the observer hands h3 an Observation to use as that context.
import type { H3, H3Event, H3Route } from 'h3'
import type { RequestContext } from '../context.ts'
import { GatewayError } from '../errors.ts'
import type { Instruments } from './instruments.ts'
import { classOfStatus, KnownModels, NONE, statusLabel } from './labels.ts'
import { serverTiming, upstreamMs } from './server-timing.ts'

/** What is counted while metrics are on; the observer of one gateway, for all its generations. */
export class RequestObserver {
  /** Read only while counting, and counting waits for the instruments to be loaded. */
  readonly #instruments: () => Instruments
  readonly #enabled: () => boolean
  readonly #models = new KnownModels()
  #requests = 0
  #streams = 0

  constructor(instruments: () => Instruments, enabled: () => boolean) {
    this.#instruments = instruments
    this.#enabled = enabled
  }

  /** Answers `request` with `app`, stamping the answer with Server-Timing (and counting it while metrics are on). */
  serve(request: Request, app: H3): Response | Promise<Response> {
    const counting = this.#enabled()
    if (counting) this.#requests++
    const observation = new Observation(performance.now(), counting ? this : undefined)
    const answer = app.request(request, undefined, observation)
    return answer instanceof Promise ? answer.then((response) => observation.answered(response)) : observation.answered(answer)
  }

  inFlight(): { requests: number; streams: number } {
    return { requests: this.#requests, streams: this.#streams }
  }

  /** The answer's headers are going out; `ctx` is the pipeline request behind it, if one ran. */
  answered(answer: Answer, ctx: RequestContext | undefined, gatewayMs: number, streaming: boolean): void {
    if (ctx) {
      const { upstream, overhead } = this.#instruments()
      const model = ctx.request.upstreamModel
      for (const attempt of ctx.attempts) this.#models.judged(model, attempt.failureClass)
      const label = { model: this.#models.label(model) }
      for (const attempt of ctx.attempts) if (attempt.latencyMs > 0) upstream.observe(label, attempt.latencyMs / 1000)
      overhead.observe({ dialect: ctx.request.dialect }, gatewayMs / 1000)
    }
    if (streaming) this.#streams++
    else this.#count(answer, ctx, undefined)
  }

  /** A stream answered earlier has ended (read to the end, broken off, or left by its client). */
  streamEnded(answer: Answer, ctx: RequestContext | undefined, error: unknown): void {
    this.#streams--
    this.#count(answer, ctx, error)
  }

  #count({ route, status }: Answer, ctx: RequestContext | undefined, error: unknown): void {
    this.#requests--
    const last = ctx?.attempts.at(-1)
    this.#instruments().requests.inc({
      route,
      dialect: ctx ? ctx.request.dialect : NONE,
      model: ctx ? this.#models.label(ctx.request.upstreamModel) : NONE,
      status: statusLabel(status),
      failure_class: last ? last.failureClass : classOfStatus(error === undefined ? status : error instanceof GatewayError ? error.status : 500),
    })
  }
}

/** The answer as counted: the route pattern that served it ('none' when none matched) and its status. */
interface Answer {
  route: string
  status: number
}

/**
 * The h3 event context of a request served through a RequestObserver (h3 keeps its own entries in it too: params,
 * matchedRoute). It knows when the request arrived and which pipeline request, if any, answered it.
 */
export class Observation {
  [entry: string]: unknown
  readonly #arrivedAt: number
  readonly #observer: RequestObserver | undefined
  #request: RequestContext | undefined
  /** Pipeline requests of this HTTP request whose answer has not fully left yet (finish callbacks to come). */
  #open = 0
  #answer: Answer | undefined
  #counted = false

  constructor(arrivedAt: number, observer: RequestObserver | undefined) {
    this.#arrivedAt = arrivedAt
    this.#observer = observer
  }

  /** Ties the pipeline request `ctx` to this HTTP request (core/run.ts does, for every request it runs). */
  attach(ctx: RequestContext): void {
    this.#request = ctx
    if (!this.#observer) return
    this.#open++
    ctx.onFinish((error) => this.#finished(error))
  }

  answered(response: Response): Response {
    const ctx = this.#request
    const total = performance.now() - this.#arrivedAt
    const upstream = ctx && ctx.attempts.length > 0 ? Math.min(total, upstreamMs(ctx.attempts)) : undefined
    const gateway = total - (upstream ?? 0)
    try {
      response.headers.set('server-timing', serverTiming(gateway, upstream))
    } catch {
      // Headers that cannot change (a Response.redirect()): that answer goes without.
    }
    if (!this.#observer) return response
    const answer = (this.#answer = { route: (this.matchedRoute as H3Route | undefined)?.route ?? NONE, status: response.status })
    // A JSON answer or an error has finished by now; a stream finishes when its last byte has left.
    const streaming = this.#open > 0
    if (!streaming) this.#counted = true
    this.#observer.answered(answer, ctx, gateway, streaming)
    return response
  }

  #finished(error: unknown): void {
    if (--this.#open > 0 || !this.#answer || this.#counted) return
    this.#counted = true
    this.#observer!.streamEnded(this.#answer, this.#request, error)
  }
}
// Like h3's own contexts: a request's entries never meet Object.prototype's.
Object.setPrototypeOf(Observation.prototype, null)

/** Ties a pipeline request to the HTTP request it answers, when that came through a RequestObserver. */
export function observeRequest(event: H3Event, ctx: RequestContext): void {
  const context = event.context
  if (context instanceof Observation) context.attach(ctx)
}
