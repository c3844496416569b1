import * as v from 'valibot'
import { addBuiltinTool, asksForImages, definePlugin, hasImageParts, refusesBuiltinTools } from 'gemgate'
import { takesNoTools } from './internal/no-tools.ts'

/** Only answers use tools: countTokens, embeddings and Google's own OpenAI layer keep their bodies. */
const GENERATES = new Set(['generateContent', 'streamGenerateContent'])

/**
 * Google's built-in tools offered on every answer, as gemini-balance did: code execution (the model writes and runs
 * Python; the dialects show the code and its output as markdown) and URL context (the model reads the pages the
 * prompt links to) for the models listed. Left out where Google would refuse them (`refusesBuiltinTools` in core/gemini/body.ts).
 *
 * gemini-balance also left code execution out for any model name containing `-thinking`. That matched the
 * experimental 2.0 thinking models, since retired, and by accident its own `-non-thinking` variants (thinking off),
 * which run code like any other request: so no such rule here, and `-non-thinking` variants get code execution.
 */
export default definePlugin({
  name: 'tools',
  summary: "Code execution and URL context on every answer (gemini-balance's TOOLS_CODE_EXECUTION_ENABLED, URL_CONTEXT_ENABLED).",
  options: v.strictObject({
    codeExecution: v.optional(v.boolean(), false),
    urlContext: v.optional(v.boolean(), false),
    urlContextModels: v.optional(v.array(v.string()), [
      'gemini-2.5-pro',
      'gemini-2.5-flash',
      'gemini-2.5-flash-lite',
      'gemini-2.0-flash',
      'gemini-2.0-flash-live-001',
    ]),
  }),
  env: {
    codeExecution: { env: 'TOOLS_CODE_EXECUTION_ENABLED', kind: 'bool' },
    urlContext: { env: 'URL_CONTEXT_ENABLED', kind: 'bool' },
    urlContextModels: { env: 'URL_CONTEXT_MODELS', kind: 'list' },
  },
  docs: {
    codeExecution: 'add the codeExecution tool (not to `-search` variants, image models or requests with images)',
    urlContext: 'add the urlContext tool for the models of urlContextModels',
    urlContextModels: 'models that get URL context (the model Google gets, without variant suffixes)',
  },

  setup({ codeExecution, urlContext, urlContextModels }) {
    if (!codeExecution && !urlContext) return {}
    const readsUrls = new Set(urlContextModels)
    return {
      transformRequest(request) {
        if (!GENERATES.has(request.operation)) return
        // Decided from the names first, so a request that can get neither tool keeps the client's exact bytes.
        const noTools = takesNoTools(request.model) || takesNoTools(request.upstreamModel)
        // Search has the -search variant's own rules; gemini-balance never offered code execution beside it.
        const runsCode = codeExecution && !noTools && !request.variants?.has('-search')
        const fetchesUrls = urlContext && !noTools && readsUrls.has(request.upstreamModel)
        if (!runsCode && !fetchesUrls) return
        const body = request.body
        if (refusesBuiltinTools(body) || asksForImages(body)) return
        if (runsCode && !hasImageParts(body)) addBuiltinTool(body, 'codeExecution')
        if (fetchesUrls) addBuiltinTool(body, 'urlContext')
      },
    }
  },
})
