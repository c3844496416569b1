import { isObject, type Json } from '../../internal/json.ts'
import type { PendingMedia } from '../shared/request.ts'
import { toFunctionDeclaration } from '../shared/tools.ts'
import { decodeMessages } from './messages.ts'
import { thinkingConfig } from './thinking.ts'
import { modelId } from '../shared/models.ts'
import { describe, invalid, missing, optBoolean, optNumber, optObject, optString } from './validate.ts'

/** What the encoder needs to answer a chat request (carried in GatewayRequest.dialectOptions). */
export interface ChatOptions {
  kind: 'chat'
  /** The model string exactly as the client sent it; answers echo it. */
  model: string
  /** Choices to expect (n); a blocked prompt answers each with content_filter. */
  n: number
  /** stream_options.include_usage */
  includeUsage: boolean
}

export interface DecodedChat {
  /** Model id for the pipeline (no `models/` prefix). */
  model: string
  stream: boolean
  /** The Gemini generateContent body. */
  body: Json
  options: ChatOptions
  /** http(s) media to fetch after auth; their parts are already in `body`, filled in place. */
  media: PendingMedia[]
}

/**
 * An OpenAI chat.completions request → the canonical Gemini request. Pure: no I/O, no defaults. Only what the
 * client set reaches Gemini; unknown fields are ignored; a field of the wrong shape is a 400 naming it.
 */
export function decodeChatRequest(body: Json): DecodedChat {
  const rawModel = optString(body, 'model')
  if (!rawModel) throw missing('model')
  const model = modelId(rawModel)
  if (!model) throw invalid('model', `"${rawModel.slice(0, 64)}" is not a valid model id.`)
  const stream = optBoolean(body, 'stream') ?? false

  const { contents, systemInstruction, media } = decodeMessages(body.messages, { dummySignatures: isGemini3(model) })
  const gemini: Json = { contents }
  if (systemInstruction) gemini.systemInstruction = systemInstruction

  const tools = decodeTools(body)
  if (tools.length > 0) gemini.tools = tools
  const toolConfig = decodeToolChoice(body, tools)
  if (toolConfig) gemini.toolConfig = toolConfig

  const generationConfig = decodeGenerationConfig(body, model)
  if (Object.keys(generationConfig).length > 0) gemini.generationConfig = generationConfig

  const google = googleExtras(body)
  if (typeof google?.cached_content === 'string') gemini.cachedContent = google.cached_content

  const streamOptions = optObject(body, 'stream_options')
  const includeUsage = streamOptions ? (optBoolean(streamOptions, 'include_usage', 'stream_options.include_usage') ?? false) : false
  const n = (generationConfig.candidateCount as number | undefined) ?? 1
  return { model, stream, body: gemini, options: { kind: 'chat', model: rawModel, n, includeUsage }, media }
}

export const isGemini3 = (model: string) => /gemini-([3-9]|\d\d)/.test(model)

function decodeTools(body: Json): Json[] {
  const tools = body.tools
  const declarations: Json[] = []
  const out: Json[] = []
  if (tools !== undefined && tools !== null) {
    if (!Array.isArray(tools)) throw invalid('tools', `expected an array of tools, got ${describe(tools)}.`)
    tools.forEach((tool, i) => {
      const p = `tools[${i}]`
      if (!isObject(tool)) throw invalid(p, `expected a tool object, got ${describe(tool)}.`)
      if (tool.type !== 'function') throw invalid(`${p}.type`, `only "function" tools are supported, got ${describe(tool.type)}.`)
      const fn = tool.function
      if (!isObject(fn)) throw missing(`${p}.function`)
      if (typeof fn.name !== 'string' || fn.name === '') throw missing(`${p}.function.name`)
      if (fn.parameters !== undefined && fn.parameters !== null && !isObject(fn.parameters)) {
        throw invalid(`${p}.function.parameters`, `expected a JSON Schema object, got ${describe(fn.parameters)}.`)
      }
      // Cherry Studio and gemini-balance clients ask for Google Search by declaring a function of that name.
      if (fn.name === 'googleSearch') return void out.push({ googleSearch: {} })
      declarations.push(
        toFunctionDeclaration({
          name: fn.name,
          description: typeof fn.description === 'string' ? fn.description : undefined,
          parameters: fn.parameters ?? undefined,
        }),
      )
    })
  }
  if (optObject(body, 'web_search_options') && !out.some((tool) => tool.googleSearch)) out.push({ googleSearch: {} })
  if (declarations.length > 0) out.unshift({ functionDeclarations: declarations })
  return out
}

function declaredNames(tools: Json[]): Set<string> {
  return new Set((tools[0]?.functionDeclarations as Json[] | undefined)?.map((d) => d.name as string) ?? [])
}

/** tool_choice → functionCallingConfig. `parallel_tool_calls` has no Gemini switch and is accepted as a hint only. */
function decodeToolChoice(body: Json, tools: Json[]): Json | undefined {
  const choice = body.tool_choice
  if (choice === undefined || choice === null) return undefined
  const names = declaredNames(tools)
  if (typeof choice === 'string') {
    if (choice === 'none') return names.size ? { functionCallingConfig: { mode: 'NONE' } } : undefined
    if (choice === 'auto') return names.size ? { functionCallingConfig: { mode: 'AUTO' } } : undefined
    if (choice === 'required') {
      if (!names.size) throw invalid('tool_choice', '"required" needs at least one function in tools.')
      return { functionCallingConfig: { mode: 'ANY' } }
    }
    throw invalid('tool_choice', `expected "none", "auto", "required" or a function choice, got ${describe(choice)}.`)
  }
  if (!isObject(choice)) throw invalid('tool_choice', `expected a string or an object, got ${describe(choice)}.`)
  if (choice.type === 'function') {
    const name = isObject(choice.function) ? choice.function.name : choice.name
    if (typeof name !== 'string' || name === '') throw missing('tool_choice.function.name')
    if (!names.has(name)) throw invalid('tool_choice.function.name', `no function named "${name}" in tools.`)
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } }
  }
  if (choice.type === 'allowed_tools' && isObject(choice.allowed_tools)) {
    const allowed = Array.isArray(choice.allowed_tools.tools) ? choice.allowed_tools.tools : []
    const list = allowed
      .map((tool: Json) => (isObject(tool?.function) ? tool.function.name : tool?.name))
      .filter((name: unknown): name is string => typeof name === 'string')
    for (const name of list) if (!names.has(name)) throw invalid('tool_choice.allowed_tools.tools', `no function named "${name}" in tools.`)
    const required = choice.allowed_tools.mode === 'required'
    if (!required) {
      // Gemini takes allowedFunctionNames only with mode ANY; "auto among these" means declaring only these.
      const declarations = tools[0]?.functionDeclarations as Json[] | undefined
      if (declarations) tools[0]!.functionDeclarations = declarations.filter((d) => list.includes(d.name))
      return { functionCallingConfig: { mode: 'AUTO' } }
    }
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: list } }
  }
  throw invalid('tool_choice.type', `expected "function" or "allowed_tools", got ${describe(choice.type)}.`)
}

function decodeGenerationConfig(body: Json, model: string): Json {
  const config: Json = {}
  const set = (key: string, value: unknown) => {
    if (value !== undefined) config[key] = value
  }
  set('temperature', optNumber(body, 'temperature', { min: 0, max: 2 }))
  set('topP', optNumber(body, 'top_p', { min: 0, max: 1 }))
  set('topK', optNumber(body, 'top_k', { min: 1, integer: true }))
  set('maxOutputTokens', optNumber(body, 'max_completion_tokens', { min: 1, integer: true }) ?? optNumber(body, 'max_tokens', { min: 1, integer: true }))
  set('stopSequences', decodeStop(body.stop))
  set('candidateCount', optNumber(body, 'n', { min: 1, max: 8, integer: true }))
  set('seed', optNumber(body, 'seed', { integer: true }))
  set('presencePenalty', optNumber(body, 'presence_penalty', { min: -2, max: 2 }))
  set('frequencyPenalty', optNumber(body, 'frequency_penalty', { min: -2, max: 2 }))

  const logprobs = optBoolean(body, 'logprobs')
  const top = optNumber(body, 'top_logprobs', { min: 0, max: 20, integer: true })
  if (top !== undefined && logprobs !== true) throw invalid('top_logprobs', 'requires logprobs to be true.')
  if (logprobs) config.responseLogprobs = true
  if (top !== undefined && top > 0) config.logprobs = top

  Object.assign(config, decodeResponseFormat(body))
  const thinking = thinkingConfig(body, model, googleExtras(body))
  if (thinking) config.thinkingConfig = thinking
  return config
}

function decodeStop(stop: unknown): string[] | undefined {
  if (stop === undefined || stop === null) return undefined
  if (typeof stop === 'string') return stop === '' ? undefined : [stop]
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string')) throw invalid('stop', `expected a string or an array of strings, got ${describe(stop)}.`)
  const list = stop.filter((s) => s !== '')
  return list.length > 0 ? list : undefined
}

function decodeResponseFormat(body: Json): Json {
  const format = optObject(body, 'response_format')
  if (!format) return {}
  switch (format.type) {
    case 'text':
      return {}
    case 'json_object':
      return { responseMimeType: 'application/json' }
    case 'json_schema': {
      const spec = format.json_schema
      if (!isObject(spec)) throw missing('response_format.json_schema')
      if (spec.schema === undefined || spec.schema === null) return { responseMimeType: 'application/json' }
      if (!isObject(spec.schema)) throw invalid('response_format.json_schema.schema', `expected a JSON Schema object, got ${describe(spec.schema)}.`)
      return { responseMimeType: 'application/json', responseJsonSchema: spec.schema }
    }
    default:
      throw invalid('response_format.type', `expected "text", "json_object" or "json_schema", got ${describe(format.type)}.`)
  }
}

/** Google-specific options, sent the way Google's own OpenAI layer takes them: `extra_body: {google: {...}}`. */
function googleExtras(body: Json): Json | undefined {
  const google = isObject(body.extra_body) ? body.extra_body.google : body.google
  return isObject(google) ? google : undefined
}
