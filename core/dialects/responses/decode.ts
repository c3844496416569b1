import { badRequest } from '../../errors.ts'
import { isObject, type Json } from '../../internal/json.ts'
import { modelId } from '../shared/models.ts'
import type { PendingMedia } from '../shared/request.ts'
import { toFunctionDeclaration } from '../shared/tools.ts'
import { decodeInput } from './input.ts'

/** What the encoder needs later; carried in GatewayRequest.dialectOptions. */
export interface ResponsesOptions {
  kind: 'response' | 'input_tokens'
  /** The model the client asked for, answered back in `model`. */
  model: string
  /** Unix seconds. */
  createdAt: number
  /** Request fields the Response object repeats (instructions, tools, temperature, ...). */
  echo: Json
}

export interface DecodedRequest {
  model: string
  stream: boolean
  /** Gemini generateContent body. */
  body: Json
  media: PendingMedia[]
  options: ResponsesOptions
}

const given = (value: unknown) => value !== undefined && value !== null

/**
 * A Responses API request → the canonical Gemini request. Only what the client sent is mapped (no defaults);
 * fields without a Gemini meaning (metadata, user, include, truncation, service_tier, ...) are ignored, and fields
 * that need server-side state this gateway does not keep are refused with a 400 naming the field.
 */
export function decodeResponsesRequest(body: Json, now = Date.now()): DecodedRequest {
  refuseStateful(body)
  const model = modelOf(body.model)
  if (body.input === undefined || body.input === null) throw badRequest('`input` is required.', 'input')
  const input = decodeInput(body.input)
  if (input.contents.length === 0) throw badRequest('`input` has no user or assistant content to answer.', 'input')

  const gemini: Json = { contents: input.contents }
  const system = [...(typeof body.instructions === 'string' && body.instructions !== '' ? [body.instructions] : []), ...input.system]
  if (given(body.instructions) && typeof body.instructions !== 'string') throw badRequest('`instructions` must be a string.', 'instructions')
  if (system.length > 0) gemini.systemInstruction = { parts: system.map((text) => ({ text })) }

  const tools = decodeTools(body.tools)
  if (tools.length > 0) gemini.tools = tools
  const toolConfig = decodeToolChoice(body.tool_choice)
  if (toolConfig) gemini.toolConfig = toolConfig

  const generationConfig = decodeGenerationConfig(body, model)
  if (Object.keys(generationConfig).length > 0) gemini.generationConfig = generationConfig

  return {
    model,
    stream: body.stream === true,
    body: gemini,
    media: input.media,
    options: { kind: 'response', model, createdAt: Math.floor(now / 1000), echo: echoOf(body) },
  }
}

function refuseStateful(body: Json): void {
  const stateless = 'This gateway is stateless: send the whole conversation in `input` (with store absent or false).'
  if (given(body.previous_response_id)) throw badRequest(`previous_response_id is not supported. ${stateless}`, 'previous_response_id')
  if (body.store === true) throw badRequest(`store: true is not supported: responses are not stored. ${stateless}`, 'store')
  if (given(body.conversation)) throw badRequest(`conversation is not supported. ${stateless}`, 'conversation')
  if (body.background === true) throw badRequest('background: true is not supported: responses are not stored for later retrieval.', 'background')
  if (given(body.prompt)) throw badRequest('prompt (stored prompt templates) is not supported; send instructions and input instead.', 'prompt')
}

function modelOf(raw: unknown): string {
  if (typeof raw !== 'string' || raw === '') throw badRequest('`model` is required.', 'model')
  const model = modelId(raw)
  if (!model) throw badRequest(`Invalid model name "${raw.slice(0, 64)}".`, 'model')
  return model
}

function decodeTools(tools: unknown): Json[] {
  if (!given(tools)) return []
  if (!Array.isArray(tools)) throw badRequest('`tools` must be an array.', 'tools')
  const declarations: Json[] = []
  const out: Json[] = []
  tools.forEach((tool: unknown, i: number) => {
    const param = `tools[${i}]`
    if (!isObject(tool)) throw badRequest(`${param} must be an object.`, param)
    switch (tool.type) {
      case 'function':
        if (typeof tool.name !== 'string' || tool.name === '') throw badRequest(`${param}.name is required.`, `${param}.name`)
        declarations.push(toFunctionDeclaration({ name: tool.name, description: tool.description ?? undefined, parameters: tool.parameters ?? undefined }))
        return
      case 'web_search':
      case 'web_search_preview':
      case 'web_search_2025_08_26':
      case 'web_search_preview_2025_03_11':
        out.push({ googleSearch: {} })
        return
      default:
        throw badRequest(
          `${param}: tools of type "${String(tool.type)}" are not supported by this gateway; use function tools (or web_search, served by Google Search).`,
          `${param}.type`,
        )
    }
  })
  return declarations.length > 0 ? [{ functionDeclarations: declarations }, ...out] : out
}

// Maps, like the effort table below: the key is the client's, and `constructor` or `toString` must find nothing.
const MODES: ReadonlyMap<string, string> = new Map([
  ['auto', 'AUTO'],
  ['none', 'NONE'],
  ['required', 'ANY'],
])

function decodeToolChoice(choice: unknown): Json | undefined {
  if (!given(choice)) return undefined
  if (typeof choice === 'string') {
    const mode = MODES.get(choice)
    if (!mode) throw badRequest('`tool_choice` must be auto, none, required or an object.', 'tool_choice')
    return { functionCallingConfig: { mode } }
  }
  if (!isObject(choice)) throw badRequest('`tool_choice` must be auto, none, required or an object.', 'tool_choice')
  if (choice.type === 'function') {
    if (typeof choice.name !== 'string' || choice.name === '') throw badRequest('tool_choice.name is required.', 'tool_choice.name')
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } }
  }
  if (choice.type === 'allowed_tools') {
    const names = Array.isArray(choice.tools)
      ? choice.tools.filter((t: Json) => t?.type === 'function' && typeof t.name === 'string').map((t: Json) => t.name)
      : []
    if (names.length === 0) throw badRequest('tool_choice.tools must list function tools by name.', 'tool_choice.tools')
    // Gemini restricts to named functions in ANY (must call) mode; VALIDATED is its "may call, only these" mode.
    return { functionCallingConfig: { mode: choice.mode === 'required' ? 'ANY' : 'VALIDATED', allowedFunctionNames: names } }
  }
  if (typeof choice.type === 'string' && choice.type.startsWith('web_search')) return undefined
  throw badRequest(`tool_choice of type "${String(choice.type)}" is not supported; use auto, none, required or {type:"function", name}.`, 'tool_choice')
}

function decodeGenerationConfig(body: Json, model: string): Json {
  const config: Json = {}
  if (given(body.max_output_tokens)) config.maxOutputTokens = body.max_output_tokens
  if (given(body.temperature)) config.temperature = body.temperature
  if (given(body.top_p)) config.topP = body.top_p
  const format = isObject(body.text) ? body.text.format : undefined
  if (isObject(format)) {
    if (format.type === 'json_schema') {
      if (!isObject(format.schema)) throw badRequest('text.format.schema must be a JSON Schema object.', 'text.format.schema')
      config.responseMimeType = 'application/json'
      config.responseJsonSchema = format.schema
    } else if (format.type === 'json_object') {
      config.responseMimeType = 'application/json'
    } else if (format.type !== 'text') {
      throw badRequest(`text.format.type "${String(format.type)}" is not supported; use text, json_object or json_schema.`, 'text.format.type')
    }
  }
  const thinking = thinkingConfig(body.reasoning, model)
  if (thinking) config.thinkingConfig = thinking
  return config
}

/** reasoning.effort → Gemini 3's thinkingLevel and earlier models' thinkingBudget. */
const EFFORTS: ReadonlyMap<string, { level: string; budget: number }> = new Map([
  ['none', { level: 'minimal', budget: 0 }],
  ['minimal', { level: 'minimal', budget: 512 }],
  ['low', { level: 'low', budget: 1024 }],
  ['medium', { level: 'medium', budget: 8192 }],
  ['high', { level: 'high', budget: 24576 }],
  ['xhigh', { level: 'high', budget: 24576 }],
])

/**
 * reasoning.effort → thinkingLevel on Gemini 3 models, thinkingBudget on earlier ones; summaries (thought parts) are
 * asked for whenever the client asks for reasoning, since they are what becomes reasoning items.
 */
function thinkingConfig(reasoning: unknown, model: string): Json | undefined {
  if (!isObject(reasoning)) return undefined
  const config: Json = {}
  const effort = reasoning.effort
  if (given(effort)) {
    const mapped = typeof effort === 'string' ? EFFORTS.get(effort) : undefined
    if (!mapped) throw badRequest('reasoning.effort must be one of none, minimal, low, medium, high, xhigh.', 'reasoning.effort')
    if (/gemini-3/i.test(model)) config.thinkingLevel = mapped.level
    else config.thinkingBudget = mapped.budget
  }
  if ((given(effort) && effort !== 'none') || given(reasoning.summary)) config.includeThoughts = true
  return Object.keys(config).length > 0 ? config : undefined
}

/** The request fields a Response object repeats, with OpenAI's values for what was not sent. */
function echoOf(body: Json): Json {
  return {
    instructions: typeof body.instructions === 'string' ? body.instructions : null,
    max_output_tokens: body.max_output_tokens ?? null,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    reasoning: isObject(body.reasoning) ? { effort: body.reasoning.effort ?? null, summary: body.reasoning.summary ?? null } : { effort: null, summary: null },
    temperature: body.temperature ?? null,
    text: isObject(body.text) ? body.text : { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: Array.isArray(body.tools) ? body.tools : [],
    top_p: body.top_p ?? null,
    metadata: isObject(body.metadata) ? body.metadata : {},
    ...(typeof body.user === 'string' ? { user: body.user } : {}),
  }
}
