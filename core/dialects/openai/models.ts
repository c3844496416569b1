import { isObject } from '../../internal/json.ts'
import { shortModelName } from '../shared/models.ts'
import type { GeminiModel } from '../../plugin.ts'

export interface OpenAIModel {
  id: string
  object: 'model'
  created: number
  owned_by: string
}

/** Gemini gives no creation date; one fixed timestamp per process keeps the list stable between calls. */
const CREATED = Math.floor(Date.now() / 1000)

export function toOpenAIModel(model: GeminiModel): OpenAIModel {
  return { id: shortModelName(model.name), object: 'model', created: CREATED, owned_by: 'google' }
}

/** Gemini models.list page → OpenAI list: filtered models out, plugin-derived models in, each id once. */
export function toModelList(answer: unknown, listed: (id: string) => boolean, pluginModels?: (upstream: GeminiModel[]) => GeminiModel[]) {
  const models = isObject(answer) && Array.isArray(answer.models) ? (answer.models as GeminiModel[]) : []
  const visible = models.filter((m) => isObject(m) && typeof m.name === 'string' && listed(shortModelName(m.name)))
  const extra = pluginModels?.(visible) ?? []
  const seen = new Set<string>()
  const data: OpenAIModel[] = []
  for (const model of [...visible, ...extra]) {
    const entry = toOpenAIModel(model)
    if (seen.has(entry.id) || !listed(entry.id)) continue
    seen.add(entry.id)
    data.push(entry)
  }
  return { object: 'list' as const, data }
}
