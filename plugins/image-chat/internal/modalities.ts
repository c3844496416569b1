import { isObject } from 'gemgate'

/**
 * Asks for text and image output: `generationConfig.responseModalities = ['TEXT', 'IMAGE']`, unless the client's
 * modalities ask for images already (then they stay as sent). Snake-case spellings, which Google accepts too, are
 * edited where the client used them, so the body never carries a field twice.
 */
export function askForImages(body: Record<string, any>): void {
  const configField = body.generationConfig === undefined && isObject(body.generation_config) ? 'generation_config' : 'generationConfig'
  if (!isObject(body[configField])) body[configField] = {}
  const config = body[configField] as Record<string, unknown>
  const field = config.responseModalities === undefined && config.response_modalities !== undefined ? 'response_modalities' : 'responseModalities'
  const asked = config[field]
  if (Array.isArray(asked) && asked.some((modality) => String(modality).toUpperCase() === 'IMAGE')) return
  config[field] = ['TEXT', 'IMAGE']
}
