import type { GatewayRequest, Operation, Usage } from '../context.ts'
import type { GenerateContentResponse } from '../gemini/types.ts'
import { isObject } from '../internal/json.ts'

/**
 * Where each operation goes on Google's side and how its wire format looks. Native operations use the Gemini
 * REST API with `x-goog-api-key`; `openai.*` operations are Google's own OpenAI-compatible layer under
 * {BASE_URL}/openai/, which takes the key as a Bearer token and streams OpenAI chunks ending in `[DONE]`.
 */
export interface OperationSpec {
  /** POST and PATCH send the request body; GET and DELETE send none. */
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  /**
   * Path below BASE_URL, or an absolute http(s) URL for an operation that lives elsewhere. `request` is there for
   * operations on a REST resource, whose path is `request.resource`.
   */
  path(model: string, stream: boolean, request: GatewayRequest): string
  /** Response headers of Google's the outcome carries (a resumable upload's x-goog-upload-url), lower-case. */
  responseHeaders?: readonly string[]
  /** Whether `path` puts the model into the URL (it must then be a plain model id). */
  modelInPath: boolean
  auth: 'goog-api-key' | 'bearer'
  /** Whether a stream event closes the answer (tested on the raw event text, no parse). */
  ends(eventText: string): boolean
  /**
   * Texts one of which every event that `ends` holds: a stream's events are decoded for `ends` only when their bytes
   * have one. Absent: every event is decoded and tested.
   */
  endMarks?: readonly string[]
  /** Whether an event (or answer) carries token usage, tested on its raw text. */
  carriesUsage(eventText: string): boolean
  /** Token usage from a parsed answer or event. */
  usage(body: unknown): Usage | undefined
}

// Plain substring tests: they run on every chunk, and are several times cheaper than a regular expression.
// One scan for both markers ("finishReason", "blockReason"), then the exact check only on a hit.
const geminiEnds = (text: string) => text.includes('Reason"') && (text.includes('"finishReason"') || text.includes('"blockReason"'))
const openaiEnds = (text: string) => text === '[DONE]' || /"finish_reason":\s*"/.test(text)

/** Gemini reports usage on every stream event, cumulatively: the last one that has it is the total. */
function usageOfGeminiBody(body: unknown): Usage | undefined {
  const usage = isObject(body) ? (body as GenerateContentResponse).usageMetadata : undefined
  if (!isObject(usage)) return undefined
  return {
    promptTokens: usage.promptTokenCount,
    completionTokens: usage.candidatesTokenCount,
    thinkingTokens: usage.thoughtsTokenCount,
    totalTokens: usage.totalTokenCount,
  }
}

function usageOfOpenAIBody(body: unknown): Usage | undefined {
  const usage = isObject(body) ? body.usage : undefined
  if (!isObject(usage)) return undefined
  return {
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    thinkingTokens: usage.completion_tokens_details?.reasoning_tokens,
    totalTokens: usage.total_tokens,
  }
}

/** An operation of the native REST API: `POST {BASE_URL}/models/{model}:{action}` with x-goog-api-key, Gemini's wire format. */
export const nativeOperation = (action: string): OperationSpec => ({
  method: 'POST',
  path: (model) => `/models/${model}:${action}`,
  modelInPath: true,
  auth: 'goog-api-key',
  ends: geminiEnds,
  endMarks: ['Reason"'],
  // Every Gemini event carries the running totals; no need to look: the last event is the answer.
  carriesUsage: () => true,
  usage: usageOfGeminiBody,
})

const openai = (method: 'GET' | 'POST', path: string): OperationSpec => ({
  method,
  path: () => `/openai/${path}`,
  modelInPath: false,
  auth: 'bearer',
  ends: openaiEnds,
  endMarks: ['[DONE]', '"finish_reason"'],
  // OpenAI chunks may say `"usage": null` until the last one.
  carriesUsage: (text) => text.includes('"usage"') && /"usage":\s*\{/.test(text),
  usage: usageOfOpenAIBody,
})

// A Map: an operation name never finds an inherited property (`constructor`, `toString`) of a plain object.
const OPERATIONS: ReadonlyMap<string, OperationSpec> = new Map([
  ['generateContent', nativeOperation('generateContent')],
  ['streamGenerateContent', { ...nativeOperation('streamGenerateContent'), path: (model) => `/models/${model}:streamGenerateContent?alt=sse` }],
  ['countTokens', nativeOperation('countTokens')],
  ['embedContent', nativeOperation('embedContent')],
  ['batchEmbedContents', nativeOperation('batchEmbedContents')],
  ['listModels', { ...nativeOperation(''), method: 'GET', path: () => '/models', modelInPath: false }],
  ['getModel', { ...nativeOperation(''), method: 'GET', path: (model) => `/models/${model}` }],
  ['openai.chat', openai('POST', 'chat/completions')],
  ['openai.embeddings', openai('POST', 'embeddings')],
  ['openai.images', openai('POST', 'images/generations')],
  ['openai.models', openai('GET', 'models')],
  ['openai.model', { ...openai('GET', 'models'), path: (model) => `/openai/models/${model}`, modelInPath: true }],
])

/** Finds an operation's spec; throws for a name nobody declared (a bug of the caller, not the client's). */
export type OperationTable = ((operation: Operation) => OperationSpec) & {
  /** Whether a plugin declared this native model method (`batchGenerateContent`), so the native route serves it. */
  servesModelMethod(method: string): boolean
}

/** The core operations plus the ones plugins declare; a plugin cannot redefine a core operation or another's. */
export function createOperationTable(extra: readonly Readonly<Record<string, OperationSpec>>[] = []): OperationTable {
  const table = new Map(OPERATIONS)
  for (const operations of extra) {
    for (const [name, spec] of Object.entries(operations)) {
      if (table.has(name)) throw new Error(`upstream operation "${name}" is declared twice`)
      table.set(name, spec)
    }
  }
  const declared = new Set(extra.flatMap((operations) => Object.keys(operations)))
  const lookup = (operation: Operation) => {
    const spec = table.get(operation)
    if (!spec) throw new Error(`unknown upstream operation "${operation}"`)
    return spec
  }
  return Object.assign(lookup, { servesModelMethod: (method: string) => declared.has(method) && table.get(method)!.modelInPath })
}
