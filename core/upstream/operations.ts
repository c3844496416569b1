import type { Operation, Usage } from '../context.ts'

/**
 * Where each operation goes on Google's side and how its wire format looks. Native operations use the Gemini
 * REST API with `x-goog-api-key`; `openai.*` operations are Google's own OpenAI-compatible layer under
 * {BASE_URL}/openai/, which takes the key as a Bearer token and streams OpenAI chunks ending in `[DONE]`.
 */
export interface OperationSpec {
  method: 'GET' | 'POST'
  /** Path below BASE_URL. */
  path(model: string, stream: boolean): string
  auth: 'goog-api-key' | 'bearer'
  /** Whether a stream event closes the answer (tested on the raw event text, no parse). */
  ends(eventText: string): boolean
  /** Whether an event (or answer) carries token usage, tested on its raw text. */
  carriesUsage(eventText: string): boolean
  /** Token usage from a parsed answer or event. */
  usage(body: any): Usage | undefined
}

// Plain substring tests: they run on every chunk, and are several times cheaper than a regular expression.
// One scan for both markers ("finishReason", "blockReason"), then the exact check only on a hit.
const geminiEnds = (text: string) => text.includes('Reason"') && (text.includes('"finishReason"') || text.includes('"blockReason"'))
const openaiEnds = (text: string) => text === '[DONE]' || /"finish_reason":\s*"/.test(text)

/** Gemini reports usage on every stream event, cumulatively: the last one that has it is the total. */
function geminiUsage(body: any): Usage | undefined {
  const usage = body?.usageMetadata
  if (!usage || typeof usage !== 'object') return undefined
  return {
    promptTokens: usage.promptTokenCount,
    completionTokens: usage.candidatesTokenCount,
    thinkingTokens: usage.thoughtsTokenCount,
    totalTokens: usage.totalTokenCount,
  }
}

function openaiUsage(body: any): Usage | undefined {
  const usage = body?.usage
  if (!usage || typeof usage !== 'object') return undefined
  return {
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    thinkingTokens: usage.completion_tokens_details?.reasoning_tokens,
    totalTokens: usage.total_tokens,
  }
}

const native = (action: string): OperationSpec => ({
  method: 'POST',
  path: (model) => `/models/${model}:${action}`,
  auth: 'goog-api-key',
  ends: geminiEnds,
  // Every Gemini event carries the running totals; no need to look: the last event is the answer.
  carriesUsage: () => true,
  usage: geminiUsage,
})

const openai = (method: 'GET' | 'POST', path: string): OperationSpec => ({
  method,
  path: () => `/openai/${path}`,
  auth: 'bearer',
  ends: openaiEnds,
  // OpenAI chunks may say `"usage": null` until the last one.
  carriesUsage: (text) => text.includes('"usage"') && /"usage":\s*\{/.test(text),
  usage: openaiUsage,
})

const OPERATIONS: Record<string, OperationSpec> = {
  generateContent: native('generateContent'),
  streamGenerateContent: { ...native('streamGenerateContent'), path: (model) => `/models/${model}:streamGenerateContent?alt=sse` },
  countTokens: native('countTokens'),
  embedContent: native('embedContent'),
  batchEmbedContents: native('batchEmbedContents'),
  predict: native('predict'),
  listModels: { ...native(''), method: 'GET', path: () => '/models' },
  getModel: { ...native(''), method: 'GET', path: (model) => `/models/${model}` },
  'openai.chat': openai('POST', 'chat/completions'),
  'openai.embeddings': openai('POST', 'embeddings'),
  'openai.images': openai('POST', 'images/generations'),
  'openai.models': openai('GET', 'models'),
  'openai.model': { ...openai('GET', 'models'), path: (model) => `/openai/models/${model}` },
}

export function operationSpec(operation: Operation): OperationSpec {
  const spec = OPERATIONS[operation]
  if (!spec) throw new Error(`unknown upstream operation "${operation}"`)
  return spec
}
