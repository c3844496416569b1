import * as v from 'valibot'
import { definePlugin } from 'gemgate'
import { normalizeRequestPath } from './internal/normalize.ts'

/**
 * gemini-balance's smart routing (URL_NORMALIZATION_ENABLED): a client set up with the wrong base URL still reaches
 * the route it meant. `/chat/completions` without `/v1`, `/v1beta/openai/...` (Google's own OpenAI base URL), doubled
 * prefixes, wrong case, and the model and stream flag in the query of a native call
 * (`/v1beta/models?model=gemini-2.5-flash&stream=true` → `/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`).
 * The rules are in internal/normalize.ts. Canonical paths, /health and the admin side are never touched, and the
 * route a request is sent to authenticates it as it would any other.
 */
export default definePlugin({
  name: 'url-normalization',
  summary:
    "Requests on sloppy paths (wrong base URL, missing or doubled prefix, wrong case, model in the query) reach the route they meant (gemini-balance's URL_NORMALIZATION_ENABLED).",
  options: v.strictObject({
    enabled: v.optional(v.boolean(), false),
  }),
  env: { enabled: { env: 'URL_NORMALIZATION_ENABLED', kind: 'bool' } },
  docs: { enabled: 'rewrite a request on a path no route serves to the route it meant; each rewrite is logged at debug level' },

  setup({ enabled }, ctx) {
    if (!enabled) return {}
    return {
      rewriteUrl(url, method) {
        const target = normalizeRequestPath(method, url.pathname, url.search)
        if (!target) return undefined
        // The path only: the query may carry the client's token (`?key=`).
        ctx.logger.debug(`${method} ${url.pathname} → ${target.path}`)
        return new URL(target.path + target.search, url.href)
      },
    }
  },
})
