/**
 * Reading and editing a Gemini generateContent body, for plugins: the same rules in one place. Bodies come in both
 * spellings Google's parser accepts (camelCase and snake_case), so every reader here checks both.
 */
import { isObject, type Json } from '../internal/json.ts'

export { isObject, type Json }

/** Every part of every message. */
export function partsOf(body: Json): Json[] {
  const contents = Array.isArray(body.contents) ? body.contents : []
  return contents.flatMap((content: unknown) => (isObject(content) && Array.isArray(content.parts) ? content.parts.filter(isObject) : []))
}

/** `generationConfig` (or `generation_config`), when it is an object. */
export function generationConfigOf(body: Json): Json | undefined {
  const config = body.generationConfig ?? body.generation_config
  return isObject(config) ? config : undefined
}

/**
 * gemini-balance's rule, kept: no built-in tool for a request that declares functions (or whose conversation carries
 * function calls, which come from declared functions), nor in JSON mode, because Gemini models before 3 refuse a
 * built-in tool there (400 "Tool use with function calling is unsupported", "Tool use with a response mime type:
 * 'application/json' is unsupported"). The client's functions and its JSON are what it asked for, so they win.
 */
export function refusesBuiltinTools(body: Json): boolean {
  const tools = toolList(body.tools) ?? []
  const declares = tools.some(
    (tool) => isObject(tool) && [tool.functionDeclarations, tool.function_declarations].some((list) => Array.isArray(list) && list.length > 0),
  )
  if (declares || partsOf(body).some((part) => isObject(part.functionCall) || isObject(part.function_call))) return true
  const config = generationConfigOf(body)
  return (config?.responseMimeType ?? config?.response_mime_type) === 'application/json'
}

/**
 * Appends a built-in tool (`googleSearch`, `codeExecution`, `urlContext`) as an entry of its own, unless the client
 * offers it already, in either spelling or as one of `alike` (a tool Google refuses beside it). Google takes `tools`
 * as a list of Tool objects, one per built-in tool in its docs; gemini-balance merged every tool into a single object,
 * where a later key overwrote an earlier one. A single Tool object (which Google also accepts) becomes a list of one;
 * a `tools` that is neither is left for Google to refuse. Returns whether it added the tool.
 */
export function addBuiltinTool(body: Json, name: string, alike: readonly string[] = []): boolean {
  const tools = toolList(body.tools)
  const names = [name, ...alike].flatMap((n) => [n, snakeCase(n)])
  if (!tools || tools.some((entry) => isObject(entry) && names.some((n) => n in entry))) return false
  body.tools = [...tools, { [name]: {} }]
  return true
}

/** A request for image output (responseModalities with IMAGE, any casing: gemini-balance sent "Image"). */
export function asksForImages(body: Json): boolean {
  const config = generationConfigOf(body)
  const modalities = config?.responseModalities ?? config?.response_modalities
  return Array.isArray(modalities) && modalities.some((m) => typeof m === 'string' && m.toUpperCase() === 'IMAGE')
}

/** Whether the conversation carries an image, inline or as a file, in either spelling. */
export function hasImageParts(body: Json): boolean {
  return partsOf(body).some((part) => {
    const media = part.inlineData ?? part.inline_data ?? part.fileData ?? part.file_data
    if (!isObject(media)) return false
    const mime = media.mimeType ?? media.mime_type
    return typeof mime === 'string' && mime.toLowerCase().startsWith('image/')
  })
}

function toolList(tools: unknown): unknown[] | undefined {
  if (tools === undefined || tools === null) return []
  if (Array.isArray(tools)) return tools
  return isObject(tools) ? [tools] : undefined
}

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
