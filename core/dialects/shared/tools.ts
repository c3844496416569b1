import { isObject, type Json } from '../../internal/json.ts'
import { MAX_JSON_DEPTH, nestsDeeperThan } from './body.ts'

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
  return (
    s.type === 'object' &&
    (!s.properties || Object.keys(s.properties).length === 0) &&
    !s.required?.length &&
    Object.keys(s).every((k) => ['type', 'properties', 'required', 'additionalProperties', '$schema'].includes(k))
  )
}

/**
 * A tool's result text as Gemini's functionResponse.response, which must be an object: a JSON object result as is,
 * anything else wrapped as `{output: text}` (Gemini's convention).
 */
export function toolResultObject(text: string): Json {
  if (text.trimStart().startsWith('{')) {
    try {
      const value = JSON.parse(text)
      if (isObject(value) && !nestsDeeperThan(value, MAX_JSON_DEPTH)) return value
    } catch {
      // plain text that happens to start with a brace
    }
  }
  return { output: text }
}
