import type { ConsolaInstance } from 'consola'
import type { WebSocketHooks, WebSocketMessage, WebSocketPeer } from 'h3'
import {
  newRequestId,
  type AttemptRecord,
  type ClientIdentity,
  type FailureClass,
  type GatewayError,
  type PluginKey,
  type PluginKeys,
  type PluginLogEntry,
} from 'gemgate'
import { closeReason, fieldOf, sendableCode, setupModel, type Frame } from './protocol.ts'
import { attemptFacts, clientClose, noKeyClose, type Close } from './refusals.ts'
import { openLive, type LiveUpstream, type Refusal } from './upstream.ts'
import { SessionUsage } from './usage.ts'

const OPERATION = 'bidiGenerateContent'
/** Tags the sessions' rows in the request log. */
const DIALECT = 'live'

export interface SessionSettings {
  keys: PluginKeys
  log(entry: PluginLogEntry): void
  logger: ConsolaInstance
  /** TIME_OUT, for each attempt's upgrade and setup. */
  timeoutMs: number
  /** MAX_RETRIES: keys tried for one session. */
  maxAttempts: number
  /** No frame either way for this long ends the session; 0: never. */
  idleMs: number
  /** A session ends this long after it opened; 0: never. */
  maxMs: number
}

/** Frames a client may send after its setup and before `setupComplete`, held until the session is up. */
const PENDING_MAX_BYTES = 1024 * 1024

type State = 'awaiting-setup' | 'connecting' | 'open' | 'closed'

/**
 * One client's Live session. The client's first frame (its setup) is held while keys are tried: each attempt opens
 * Google's endpoint with one key and sends that setup, a refusal is judged like any attempt of the pipeline, and only
 * Google's `setupComplete` reaches the client, so a refused key never shows. From then on frames pass both ways as
 * they come, and either side's close closes the other with its code and reason.
 */
export class LiveSession {
  readonly #settings: SessionSettings
  readonly #client: ClientIdentity
  readonly #url: string
  readonly #requestId = newRequestId()
  readonly #abort = new AbortController()
  readonly #usage = new SessionUsage()
  #state: State = 'awaiting-setup'
  #peer: WebSocketPeer | undefined
  #upstream: LiveUpstream | undefined
  #model = ''
  #pending: Frame[] = []
  #pendingBytes = 0
  /** The attempt that became the session, logged when it ends. */
  #session: { record: AttemptRecord; started: number } | undefined
  #goAwaySeen = false
  #lastActivity = performance.now()
  #idleTimer: NodeJS.Timeout | undefined
  #maxTimer: NodeJS.Timeout | undefined
  /** The plugin's open sessions (closed at shutdown): this one is in it from its open to its close. */
  readonly #open: Set<LiveSession>

  /** Holds the session's setup to FILTERED_MODELS and the client token's models and request limits (the router's admit). */
  readonly #admit: (model: string) => Promise<GatewayError | undefined>

  constructor(
    settings: SessionSettings,
    client: ClientIdentity,
    url: string,
    open: Set<LiveSession>,
    admit: (model: string) => Promise<GatewayError | undefined>,
  ) {
    this.#settings = settings
    this.#client = client
    this.#url = url
    this.#open = open
    this.#admit = admit
  }

  hooks(): Partial<WebSocketHooks> {
    return {
      open: (peer) => {
        this.#peer = peer
        this.#open.add(this)
        this.#startTimers()
      },
      message: (_peer, message) => this.#fromClient(frameOf(message)),
      close: (_peer, details) => this.#clientClosed(details.code ?? 1005, details.reason ?? ''),
      error: () => this.#clientClosed(1006, ''),
    }
  }

  /** Ends the session from the gateway's side (shutdown, a time limit): both sides get this close. */
  end(close: Close): void {
    if (this.#state === 'closed') return
    this.#closed()
    this.#upstream?.close(1000)
    this.#closeClient(close)
    this.#finish('ok', close.reason)
  }

  #fromClient(frame: Frame): void {
    this.#lastActivity = performance.now()
    switch (this.#state) {
      case 'open':
        this.#upstream!.send(frame)
        return
      case 'awaiting-setup': {
        const model = setupModel(frame)
        if (!model) return this.end({ code: 1007, reason: 'The first message must be a setup that names a model.' })
        this.#model = model
        this.#state = 'connecting'
        void this.#connect(frame).catch((error: unknown) => {
          this.#settings.logger.error('Live session failed:', error)
          this.end({ code: 1011, reason: 'Internal gateway error.' })
        })
        return
      }
      case 'connecting':
        this.#pendingBytes += typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength
        if (this.#pendingBytes > PENDING_MAX_BYTES) return this.end({ code: 1008, reason: 'Too much was sent before the setup completed.' })
        this.#pending.push(frame)
        return
      case 'closed':
        return
    }
  }

  /** Tries keys until one's session answers the setup, or none is left or worth trying. */
  async #connect(setup: Frame): Promise<void> {
    const refusal = await this.#admit(this.#model)
    // 1008 (policy) for a model it may not use, 1013 (try again later) past a rate limit; the reason says which.
    if (refusal) return this.end({ code: refusal.status === 429 ? 1013 : 1008, reason: refusal.message.slice(0, 120) })
    const { keys, maxAttempts, timeoutMs } = this.#settings
    const tried = new Set<string>()
    let last: { refusal: Refusal; close: Close } | undefined
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const key = keys.pick(this.#model, tried)
      if (!key) break
      tried.add(key.id)
      const record = this.#record(key, attempt)
      const started = performance.now()
      const { headers, proxy, mask } = keys.outbound(key)
      const result = await openLive({ url: this.#url, headers, proxy, mask, setup, timeoutMs, signal: this.#abort.signal })
      if ('upstream' in result) {
        // The session is Google's answer: the key served the model. (The 101 itself would look odd to the judge.)
        await keys.judge(key, { operation: OPERATION, model: this.#model, status: 200 })
        if (this.#state === 'closed') {
          result.upstream.close(1000)
          return this.#log({
            ...record,
            latencyMs: performance.now() - started,
            status: 101,
            failureClass: 'client-cancelled',
            reason: 'the client left before the session was up',
          })
        }
        return this.#opened(result.upstream, record, started)
      }
      const refusal = result.refusal
      const verdict = await keys.judge(key, attemptFacts(refusal, { operation: OPERATION, model: this.#model }))
      this.#log({
        ...record,
        latencyMs: performance.now() - started,
        status: statusOf(refusal),
        failureClass: verdict.class,
        reason: verdict.reason,
        errorBody: describe(refusal),
      })
      if (this.#state === 'closed' || refusal.kind === 'cancelled') return
      last = { refusal, close: clientClose(refusal, verdict) }
      if (!verdict.retry) break
    }
    if (this.#state === 'closed') return
    this.end(last?.close ?? noKeyClose(keys.unavailable(this.#model).message))
  }

  #opened(upstream: LiveUpstream, record: AttemptRecord, started: number): void {
    this.#upstream = upstream
    this.#session = { record: { ...record, status: 101 }, started }
    this.#state = 'open'
    for (const frame of this.#pending) upstream.send(frame)
    this.#pending = []
    upstream.attach({ message: (frame) => this.#fromUpstream(frame), close: (code, reason) => this.#upstreamClosed(code, reason) })
  }

  #fromUpstream(frame: Frame): void {
    this.#lastActivity = performance.now()
    const usage = fieldOf(frame, 'usageMetadata')
    if (usage !== undefined) this.#usage.add(usage)
    if (!this.#goAwaySeen && fieldOf(frame, 'goAway') !== undefined) this.#goAwaySeen = true
    this.#peer?.send(frame)
  }

  #upstreamClosed(code: number, reason: string): void {
    if (this.#state === 'closed') return
    this.#closed()
    // A close code that only describes a close (no status, a cut connection) cannot be sent on: said in words instead.
    if (code === 1005) this.#peer?.close()
    else this.#closeClient(sendableCode(code) ? { code, reason } : { code: 1011, reason: "Gemini's connection broke off." })
    // Google ends sessions itself after its goAway warning; any other close but a normal one is kept in the error log.
    const normal = code === 1000 || code === 1001 || code === 1005 || this.#goAwaySeen
    this.#finish(normal ? 'ok' : 'upstream-error', `Gemini closed the session: ${code}${reason ? ` ${reason}` : ''}`)
  }

  #clientClosed(code: number, reason: string): void {
    if (this.#state === 'closed') return
    const wasOpen = this.#state === 'open'
    this.#closed()
    if (!wasOpen) return
    if (sendableCode(code)) this.#upstream!.close(code, reason)
    else this.#upstream!.close()
    this.#finish('ok', `the client closed the session: ${code}${reason ? ` ${reason}` : ''}`)
  }

  /** Leaves every state for good: no timers, no attempt under way, out of the plugin's list. */
  #closed(): void {
    this.#state = 'closed'
    this.#abort.abort()
    clearTimeout(this.#idleTimer)
    clearTimeout(this.#maxTimer)
    this.#pending = []
    this.#open.delete(this)
  }

  #closeClient(close: Close): void {
    this.#peer?.close(sendableCode(close.code) ? close.code : 1011, closeReason(close.reason))
  }

  #startTimers(): void {
    const { idleMs, maxMs } = this.#settings
    if (maxMs > 0) this.#maxTimer = setTimeout(() => this.end({ code: 1008, reason: `The session reached its time limit of ${maxMs / 1000}s.` }), maxMs)
    if (idleMs > 0) {
      // One timer, re-armed for what is left whenever it fires early: activity costs a clock read, not a timer.
      const check = () => {
        const left = idleMs - (performance.now() - this.#lastActivity)
        if (left > 0) this.#idleTimer = setTimeout(check, left)
        else this.end({ code: 1008, reason: `The session was idle for ${idleMs / 1000}s.` })
      }
      this.#idleTimer = setTimeout(check, idleMs)
    }
  }

  #record(key: PluginKey, attempt: number): AttemptRecord {
    return { attempt, keyId: key.id, keyLabel: key.label, startedAt: Date.now(), latencyMs: 0, status: null, failureClass: 'ok', reason: '' }
  }

  /** The session's own row: its whole duration, and the tokens Google counted. */
  #finish(failureClass: FailureClass, reason: string): void {
    const session = this.#session
    if (!session) return
    this.#session = undefined
    const record: AttemptRecord = { ...session.record, latencyMs: performance.now() - session.started, failureClass, reason, usage: this.#usage.total() }
    if (failureClass !== 'ok') record.errorBody = reason
    this.#log(record)
  }

  #log(attempt: AttemptRecord): void {
    this.#settings.log({ requestId: this.#requestId, client: this.#client, dialect: DIALECT, operation: OPERATION, model: this.#model, attempt })
  }
}

function frameOf(message: WebSocketMessage): Frame {
  return typeof message.rawData === 'string' ? message.rawData : message.uint8Array()
}

/** The status column of a failed attempt: the refused upgrade's, 101 for a session closed before its setup, else none. */
function statusOf(refusal: Refusal): number | null {
  return refusal.kind === 'http' ? refusal.status : refusal.kind === 'close' ? 101 : null
}

function describe(refusal: Refusal): string {
  switch (refusal.kind) {
    case 'http':
      return refusal.body || `HTTP ${refusal.status}`
    case 'close':
      return `closed before setupComplete: ${refusal.code}${refusal.reason ? ` ${refusal.reason}` : ''}`
    case 'transport':
      return `${refusal.code}: ${refusal.message}`
    case 'cancelled':
      return 'the client left'
  }
}
