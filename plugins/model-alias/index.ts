import * as v from 'valibot'
import { definePlugin } from 'gemgate'

/**
 * Model aliases: clients ask for a short name, Google gets the real model. Also the README's example of a
 * plugin in one file: validated options, extra entries in the model lists, and a request rewrite.
 *
 *   plugins: [modelAlias({ aliases: { fast: 'gemini-2.5-flash-lite', smart: 'gemini-2.5-pro' } })]
 */
export default definePlugin({
  name: 'model-alias',
  summary: 'Short model names of your own: clients ask for `fast`, Google gets `gemini-2.5-flash-lite`.',
  options: v.strictObject({
    aliases: v.optional(v.record(v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a plain model id')), v.string()), {}),
  }),
  docs: { aliases: 'alias → real model' },

  setup({ aliases }) {
    // A Map: an alias named `constructor` must not find Object's.
    const targets = new Map(Object.entries(aliases))
    return {
      // Each alias appears in the model lists next to its target, when the target is listed upstream.
      models(upstream) {
        return [...targets].flatMap(([alias, target]) => {
          const base = upstream.find((model) => model.name === `models/${target}`)
          return base ? [{ ...base, name: `models/${alias}`, displayName: `${alias} (${base.displayName ?? target})` }] : []
        })
      },

      // The client's model name stays what it asked for; only the upstream call uses the target.
      transformRequest(request) {
        const target = targets.get(request.model)
        if (target) request.upstreamModel = target
      },
    }
  },
})
