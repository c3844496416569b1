import { definePlugin, type GeminiModel } from '../../core/index.ts'

/**
 * Model aliases: clients ask for a short name, Google gets the real model. Also the README's example of a
 * plugin in one file: it adds models to the model lists and rewrites the canonical request.
 *
 *   plugins: [modelAlias({ fast: 'gemini-2.5-flash-lite', smart: 'gemini-2.5-pro' })]
 */
export default definePlugin((aliases: Record<string, string>) => ({
  name: 'model-alias',

  // Each alias appears in the model lists next to its target, when the target is listed upstream.
  models(upstream: GeminiModel[]) {
    return Object.entries(aliases).flatMap(([alias, target]) => {
      const base = upstream.find((model) => model.name === `models/${target}`)
      return base ? [{ ...base, name: `models/${alias}`, displayName: `${alias} (${base.displayName ?? target})` }] : []
    })
  },

  // The client's model name stays what it asked for; only the upstream call uses the target.
  transformRequest(request) {
    const target = aliases[request.model]
    if (target) request.upstreamModel = target
  },
}))
