import { isObject, type Json } from '../../internal/json.ts'

/**
 * Tool declarations shared by the OpenAI, Anthropic and Responses codecs. Gemini takes a full JSON Schema in
 * `parametersJsonSchema` (and `responseJsonSchema` for structured output), so schemas go through unchanged:
 * anyOf, $ref, $defs, const and friends keep their meaning (gemini-balance deleted them).
 */
export interface FunctionSpec {
  name: string
  description?: string
  /** JSON Schema of the arguments. */
  parameters?: unknown
}

export function toFunctionDeclaration(spec: FunctionSpec): Record<string, unknown> {
  const declaration: Record<string, unknown> = { name: spec.name }
  if (spec.description) declaration.description = spec.description
  if (spec.parameters && typeof spec.parameters === 'object' && !isEmptyObjectSchema(spec.parameters)) {
    declaration.parametersJsonSchema = spec.parameters
  }
  return declaration
}

/** `{type:"object", properties:{}}` means "no arguments"; Gemini wants the field left out then. */
function isEmptyObjectSchema(schema: object): boolean {
  const s = schema as { type?: unknown; properties?: object; required?: unknown[] }
  return s.type === 'object' && (!s.properties || Object.keys(s.properties).length === 0) && !s.required?.length && Object.keys(s).every((k) => ['type', 'properties', 'required', 'additionalProperties', '$schema'].includes(k))
}

/**
 * A tool's result text as Gemini's functionResponse.response, which must be an object: a JSON object result as is,
 * anything else wrapped as `{output: text}` (Gemini's convention).
 */
export function toolResultObject(text: string): Json {
  if (text.trimStart().startsWith('{')) {
    try {
      const value = JSON.parse(text)
      if (isObject(value)) return value
    } catch {
      // plain text that happens to start with a brace
    }
  }
  return { output: text }
}

/** The usage block of a Gemini answer in the neutral form every codec maps from. */
export interface GeminiUsage {
  prompt: number
  completion: number
  thoughts: number
  cached: number
  total: number
}

export function geminiUsage(usageMetadata: any): GeminiUsage | undefined {
  if (!usageMetadata || typeof usageMetadata !== 'object') return undefined
  const prompt = usageMetadata.promptTokenCount ?? 0
  const completion = usageMetadata.candidatesTokenCount ?? 0
  const thoughts = usageMetadata.thoughtsTokenCount ?? 0
  return {
    prompt,
    completion,
    thoughts,
    cached: usageMetadata.cachedContentTokenCount ?? 0,
    total: usageMetadata.totalTokenCount ?? prompt + completion + thoughts,
  }
}
