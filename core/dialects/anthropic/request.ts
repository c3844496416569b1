import { isObject, type Json } from '../../internal/json.ts'
import { modelId } from '../shared/models.ts'
import type { PendingMedia } from '../shared/request.ts'
import { toFunctionDeclaration } from '../shared/tools.ts'
import { decodeConversation, invalid, requireString } from './content.ts'

/**
 * Anthropic Messages requests → the canonical Gemini request. Only what the client sent is mapped: no defaults
 * are injected, unknown fields (metadata, service_tier, cache_control, ...) are ignored, and a field of the wrong
 * shape is a 400 naming it.
 */

export interface DecodedMessages {
  model: string
  stream: boolean
  /** Gemini generateContent body. */
  body: Json
  media: PendingMedia[]
  /** The client asked for thinking: signatures on text parts go out as signature-only thinking blocks. */
  thinking: boolean
}

export interface DecodedCount {
  model: string
  /** Gemini countTokens body (`generateContentRequest`). */
  body: Json
  media: PendingMedia[]
}

export function decodeMessagesRequest(raw: Json): DecodedMessages {
  const model = decodeModel(raw.model)
  const stream = raw.stream ?? false
  if (typeof stream !== 'boolean') throw invalid('stream', 'Input should be a valid boolean')
  const { body, media } = decodeCommon(raw)
  const toolConfig = decodeToolChoice(raw.tool_choice)
  if (toolConfig) body.toolConfig = toolConfig
  const { config, thinking } = decodeGenerationConfig(raw)
  if (Object.keys(config).length > 0) body.generationConfig = config
  return { model, stream, body, media, thinking }
}

/**
 * count_tokens counts the whole request (system and tools too) through countTokens' `generateContentRequest`,
 * whose `model` must name the model the call goes to. Plugins may still rewrite the upstream model (aliases) after
 * decoding, so the field reads it when the body is serialised for the upstream call.
 */
export function decodeCountTokensRequest(raw: Json, upstreamModel: () => string): DecodedCount {
  const model = decodeModel(raw.model)
  const { body, media } = decodeCommon(raw)
  const inner: Json = {}
  Object.defineProperty(inner, 'model', { enumerable: true, get: () => `models/${upstreamModel()}` })
  Object.assign(inner, body)
  return { model, body: { generateContentRequest: inner }, media }
}

function decodeModel(value: unknown): string {
  const given = requireString(value, 'model')
  const model = modelId(given)
  if (!model) throw invalid('model', `invalid model name ${JSON.stringify(given.slice(0, 64))}`)
  return model
}

function decodeCommon(raw: Json): { body: Json; media: PendingMedia[] } {
  const { contents, systemParts, media } = decodeConversation(raw)
  const body: Json = { contents }
  if (systemParts.length > 0) body.systemInstruction = { parts: systemParts }
  const tools = decodeTools(raw.tools)
  if (tools) body.tools = tools
  return { body, media }
}

/**
 * Custom tools become function declarations (the JSON Schema kept whole). Anthropic's server tools that Gemini has
 * an equivalent of become Gemini's built-in tools; others (bash, text editor, computer, memory: schemas Anthropic
 * defines) are refused, since the model would not know their arguments.
 */
function decodeTools(tools: unknown): Json[] | undefined {
  if (tools === undefined || tools === null) return undefined
  if (!Array.isArray(tools)) throw invalid('tools', 'Input should be a valid list')
  const declarations: Json[] = []
  const builtins = new Map<string, Json>()
  tools.forEach((tool, i) => {
    const path = `tools.${i}`
    if (!isObject(tool)) throw invalid(path, 'Input should be an object')
    const type = tool.type
    if (type === undefined || type === null || type === 'custom') {
      const name = requireString(tool.name, `${path}.name`)
      if (tool.input_schema !== undefined && !isObject(tool.input_schema)) throw invalid(`${path}.input_schema`, 'Input should be an object')
      const description = typeof tool.description === 'string' ? tool.description : undefined
      declarations.push(toFunctionDeclaration({ name, description, parameters: tool.input_schema }))
      return
    }
    if (typeof type !== 'string') throw invalid(`${path}.type`, 'Input should be a valid string')
    const builtin = BUILTINS.find(([prefix]) => type.startsWith(prefix))
    if (!builtin)
      throw invalid(`${path}.type`, `tool type ${JSON.stringify(type)} is not supported by this gateway; declare it as a custom tool with an input_schema`)
    builtins.set(builtin[1], { [builtin[1]]: {} })
  })
  const result: Json[] = []
  if (declarations.length > 0) result.push({ functionDeclarations: declarations })
  result.push(...builtins.values())
  return result.length > 0 ? result : undefined
}

const BUILTINS: [string, string][] = [
  ['web_search_', 'googleSearch'],
  ['web_fetch_', 'urlContext'],
  ['code_execution_', 'codeExecution'],
]

/** tool_choice auto/any/tool/none → functionCallingConfig (disable_parallel_tool_use has no Gemini switch). */
function decodeToolChoice(choice: unknown): Json | undefined {
  if (choice === undefined || choice === null) return undefined
  if (!isObject(choice)) throw invalid('tool_choice', 'Input should be an object')
  switch (choice.type) {
    case 'auto':
      return { functionCallingConfig: { mode: 'AUTO' } }
    case 'any':
      return { functionCallingConfig: { mode: 'ANY' } }
    case 'none':
      return { functionCallingConfig: { mode: 'NONE' } }
    case 'tool':
      return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [requireString(choice.name, 'tool_choice.name')] } }
    default:
      throw invalid('tool_choice.type', "Input should be 'auto', 'any', 'tool' or 'none'")
  }
}

function decodeGenerationConfig(raw: Json): { config: Json; thinking: boolean } {
  const config: Json = {}
  if (raw.max_tokens !== undefined) config.maxOutputTokens = integer(raw.max_tokens, 'max_tokens', 1)
  if (raw.temperature !== undefined) config.temperature = number(raw.temperature, 'temperature')
  if (raw.top_p !== undefined) config.topP = number(raw.top_p, 'top_p')
  if (raw.top_k !== undefined) config.topK = integer(raw.top_k, 'top_k', 0)
  if (raw.stop_sequences !== undefined && raw.stop_sequences !== null) {
    if (!Array.isArray(raw.stop_sequences)) throw invalid('stop_sequences', 'Input should be a valid list')
    const stops = raw.stop_sequences.map((stop: unknown, i: number) => requireString(stop, `stop_sequences.${i}`))
    if (stops.length > 0) config.stopSequences = stops
  }
  const format = isObject(raw.output_config) ? raw.output_config.format : undefined
  if (format !== undefined && format !== null) {
    if (!isObject(format) || format.type !== 'json_schema') throw invalid('output_config.format.type', "Input should be 'json_schema'")
    if (!isObject(format.schema)) throw invalid('output_config.format.schema', 'Input should be an object')
    config.responseMimeType = 'application/json'
    config.responseJsonSchema = format.schema
  }
  const thinking = decodeThinking(raw.thinking)
  if (thinking.config) config.thinkingConfig = thinking.config
  return { config, thinking: thinking.requested }
}

/**
 * enabled {budget_tokens} → thinkingBudget + includeThoughts; adaptive / between_tools → includeThoughts with the
 * model's own (dynamic) budget; disabled → includeThoughts false only (Gemini 2.5 Pro and 3 cannot switch thinking
 * off; saying so, rather than nothing, lets a plugin see that the client decided). display "omitted" keeps the
 * thinking but not the summaries.
 */
function decodeThinking(thinking: unknown): { config?: Json; requested: boolean } {
  if (thinking === undefined || thinking === null) return { requested: false }
  if (!isObject(thinking)) throw invalid('thinking', 'Input should be an object')
  const includeThoughts = thinking.display !== 'omitted'
  switch (thinking.type) {
    case 'enabled':
      return { config: { thinkingBudget: integer(thinking.budget_tokens, 'thinking.budget_tokens', 0), includeThoughts }, requested: true }
    case 'adaptive':
    case 'between_tools':
      return { config: { includeThoughts }, requested: true }
    case 'disabled':
      return { config: { includeThoughts: false }, requested: false }
    default:
      throw invalid('thinking.type', "Input should be 'enabled', 'adaptive' or 'disabled'")
  }
}

function number(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(path, 'Input should be a valid number')
  return value
}

function integer(value: unknown, path: string, min: number): number {
  if (value === undefined) throw invalid(path, 'Field required')
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalid(path, 'Input should be a valid integer')
  if (value < min) throw invalid(path, `Input should be greater than or equal to ${min}`)
  return value
}
