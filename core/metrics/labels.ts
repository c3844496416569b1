// Label values of the request metrics. Every one comes from a bounded set, whatever clients send: a client that
// names a new model in every request must not add a series per request.
import type { FailureClass } from '../keys/judge.ts'

/** At most this many model names get a series of their own; the rest share 'other'. */
export const MAX_MODEL_LABELS = 64

/** The label of a request that did not run the pipeline (a refusal at the door, the console, /health) or named no model. */
export const NONE = 'none'
export const OTHER_MODEL = 'other'

/** Verdicts that show Google knows the model: it answered, or counted the request against that model's quota. */
const KNOWS_MODEL: ReadonlySet<FailureClass> = new Set(['ok', 'empty-answer', 'rate-limited', 'quota-exhausted'])

/**
 * The models that get a label of their own: only a model Google has shown it knows, and only the first
 * MAX_MODEL_LABELS of those; a name Google never answered for, which any client can write, is 'other'.
 */
export class KnownModels {
  readonly #known = new Set<string>()

  /** Notes what Google's verdict on an attempt at `model` says about it. */
  judged(model: string, verdict: FailureClass): void {
    if (model && KNOWS_MODEL.has(verdict) && this.#known.size < MAX_MODEL_LABELS) this.#known.add(model)
  }

  label(model: string): string {
    return model === '' ? NONE : this.#known.has(model) ? model : OTHER_MODEL
  }
}

/** The failure class of an answer no attempt explains (nothing reached Google): what its status says. */
export function classOfStatus(status: number): FailureClass {
  if (status < 400) return 'ok'
  if (status === 499) return 'client-cancelled'
  return status < 500 ? 'client-error' : 'gateway-error'
}

/** Status codes as label values, made once each. */
const STATUS_TEXT: string[] = []
export const statusLabel = (status: number): string => (STATUS_TEXT[status] ??= String(status))
