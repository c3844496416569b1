import { GatewayError } from '../errors.ts'
import { defineStage, type Stage } from '../pipeline.ts'

/**
 * Refuses models the operator filtered out (FILTERED_MODELS), before any key is spent on them. A refused model
 * is the client's problem, so it never touches key health (gemini-balance counted it against a key).
 */
export function modelFilterStage(filteredModels: readonly string[]): Stage {
  const filtered = new Set(filteredModels)
  return defineStage('model-filter', (ctx, next) => {
    const { model, operation } = ctx.request
    if (operation !== 'listModels' && filtered.has(model)) {
      return Promise.reject(new GatewayError(404, `Model ${model} is not available through this gateway.`))
    }
    return next()
  })
}
