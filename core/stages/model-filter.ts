import { GatewayError } from '../errors.ts'
import { defineStage, type Stage } from '../pipeline.ts'
import type { ModelVariant } from '../plugin.ts'
import { resolveModelVariants } from '../plugins/variants.ts'

/**
 * Resolves the plugins' model variants (`x-search` asks Google for `x`, with the `-search` plugin's help) and refuses
 * models the operator filtered out (FILTERED_MODELS), base or variant, before any key is spent on them. A refused
 * model is the client's problem, so it never touches key health (gemini-balance counted it against a key).
 */
export function modelFilterStage(filteredModels: readonly string[], variants: readonly ModelVariant[] = []): Stage {
  const filtered = new Set(filteredModels)
  return defineStage('model-filter', (ctx, next) => {
    const request = ctx.request
    if (request.operation === 'listModels' || !request.model) return next()
    let resolved
    try {
      resolved = resolveModelVariants(request.model, variants)
    } catch (error) {
      return Promise.reject(error)
    }
    if (filtered.has(request.model) || filtered.has(resolved.base)) {
      return Promise.reject(new GatewayError(404, `Model ${request.model} is not available through this gateway.`))
    }
    if (resolved.variants.size > 0) {
      request.variants = resolved.variants
      request.upstreamModel = resolved.base
    }
    return next()
  })
}
