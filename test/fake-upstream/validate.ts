// Google's checks on a request body before any model runs (§5.5, §6.1-6.2): proto-JSON refuses a top-level field the
// request message does not have, echoing its name word for word, and a value of the wrong JSON type; and a request
// naming a file this project cannot read gets a 403. Field names are accepted in both the camelCase and the
// snake_case form, as Google's parser does. Nested messages are not checked: the fake stays lenient below the top.

import type { FakeError } from './errors.ts'
import { badRequest, googleError } from './errors.ts'
import type { Json } from './responses.ts'
import { isObject } from './responses.ts'

type FieldType = { message: string; repeated?: boolean } | 'string' | 'map' | 'any'

const PROTO = 'type.googleapis.com/google.ai.generativelanguage.v1beta.'
const message = (name: string, repeated = false): FieldType => ({ message: PROTO + name, repeated })

const GENERATE_CONTENT: Record<string, FieldType> = {
  model: 'string',
  contents: message('Content', true),
  tools: message('Tool', true),
  toolConfig: message('ToolConfig'),
  safetySettings: message('SafetySetting', true),
  systemInstruction: message('Content'),
  generationConfig: message('GenerationConfig'),
  cachedContent: 'string',
  labels: 'map',
}

/** Top-level fields of each native method's request message. */
const REQUEST_FIELDS: Record<string, Record<string, FieldType>> = {
  generateContent: GENERATE_CONTENT,
  streamGenerateContent: GENERATE_CONTENT,
  countTokens: { model: 'string', contents: message('Content', true), generateContentRequest: message('GenerateContentRequest') },
  embedContent: { model: 'string', content: message('Content'), taskType: 'any', title: 'string', outputDimensionality: 'any' },
  batchEmbedContents: { model: 'string', requests: message('EmbedContentRequest', true) },
}

/** Fields Google's OpenAI-compatible layer takes (the usual OpenAI ones; Google's own options go in `extra_body`). */
const OPENAI_FIELDS: Record<string, ReadonlySet<string>> = {
  'chat/completions': new Set([
    'model',
    'messages',
    'stream',
    'stream_options',
    'temperature',
    'top_p',
    'n',
    'max_tokens',
    'max_completion_tokens',
    'stop',
    'presence_penalty',
    'frequency_penalty',
    'seed',
    'logprobs',
    'top_logprobs',
    'logit_bias',
    'response_format',
    'tools',
    'tool_choice',
    'parallel_tool_calls',
    'functions',
    'function_call',
    'user',
    'reasoning_effort',
    'modalities',
    'audio',
    'prediction',
    'metadata',
    'store',
    'service_tier',
    'web_search_options',
    'extra_body',
  ]),
  embeddings: new Set(['model', 'input', 'encoding_format', 'dimensions', 'user', 'extra_body']),
}

const snakeToCamel = (name: string): string => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
const camelToSnake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/** The 400 Google answers for the body of native method `action`, or undefined when it passes. */
export function checkNativeFields(action: string, body: Json): FakeError | undefined {
  const fields = REQUEST_FIELDS[action]
  if (fields === undefined) return undefined
  const unknown = Object.keys(body).filter((name) => !Object.hasOwn(fields, snakeToCamel(name)))
  if (unknown.length > 0) return unknownNames(unknown)
  for (const [name, value] of Object.entries(body)) {
    const wrong = wrongType(camelToSnake(snakeToCamel(name)), fields[snakeToCamel(name)]!, value)
    if (wrong !== undefined) return wrong
  }
  return undefined
}

/** The same check on Google's OpenAI-compatible layer (the caller wraps the error in an array, §6.2). */
export function checkOpenAIFields(route: string, body: Json): FakeError | undefined {
  const fields = OPENAI_FIELDS[route]
  if (fields === undefined) return undefined
  const unknown = Object.keys(body).filter((name) => !fields.has(name))
  return unknown.length > 0 ? unknownNames(unknown) : undefined
}

/**
 * Files live in one project: a part naming a Files API URI that `readable` does not know (a file of another key's, or
 * one that never existed) is refused as Google refuses it, with the file's id in the message.
 */
export function checkFileReferences(body: Json, readable: (fileId: string) => boolean = () => false): FakeError | undefined {
  const requests = isObject(body.generateContentRequest) ? [body, body.generateContentRequest] : [body]
  for (const request of requests) {
    for (const content of asList(request.contents)) {
      for (const part of isObject(content) ? asList(content.parts) : []) {
        const data = isObject(part) ? (part.fileData ?? part.file_data) : undefined
        const uri = isObject(data) ? (data.fileUri ?? data.file_uri) : undefined
        const id = typeof uri === 'string' ? /(?:^|\/)files\/([^/?#]+)$/.exec(uri)?.[1] : undefined
        if (id !== undefined && !readable(id)) {
          return googleError(403, 'PERMISSION_DENIED', `You do not have permission to access the File ${id} or it may not exist.`)
        }
      }
    }
  }
  return undefined
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value])

/** Every unknown name is one violation; the message joins them with "\n" (§5.5). */
function unknownNames(names: string[]): FakeError {
  const descriptions = names.map((name) => `Invalid JSON payload received. Unknown name ${JSON.stringify(name)}: Cannot find field.`)
  const error = badRequest(descriptions.join('\n'))
  const violations = descriptions.map((description) => ({ description }))
  error.body.error.details = [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: violations }]
  return error
}

/** "Invalid value at 'contents' (type.googleapis.com/...Content), 5" (reconstructed from proto-JSON parser output). */
function wrongType(field: string, type: FieldType, value: unknown): FakeError | undefined {
  if (value === null || type === 'any') return undefined
  const invalid = (at: string, typeName: string, bad: unknown): FakeError => badRequest(`Invalid value at '${at}' (${typeName}), ${JSON.stringify(bad)}`, at)
  if (type === 'string') return typeof value === 'string' ? undefined : invalid(field, 'TYPE_STRING', value)
  if (type === 'map') return isObject(value) ? undefined : invalid(field, 'map', value)
  // A repeated field also takes a single value (Google's parser is lenient there); each element must be a message.
  const items = type.repeated && Array.isArray(value) ? value : [value]
  for (let i = 0; i < items.length; i++) {
    if (!isObject(items[i])) return invalid(items === value ? `${field}[${i}]` : field, type.message, items[i])
  }
  return undefined
}
