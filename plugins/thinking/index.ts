import * as v from 'valibot'
import { definePlugin, type GatewayRequest } from 'gemgate'
import { leastThinking, type ThinkingConfig } from './internal/least-thinking.ts'
import { removeThoughts } from './internal/thoughts.ts'

const NON_THINKING = '-non-thinking'
const GENERATES: ReadonlySet<string> = new Set(['generateContent', 'streamGenerateContent'])

const budget = v.pipe(
  v.number(),
  v.check((n) => n === -1 || (Number.isInteger(n) && n >= 0 && n <= 32768), 'a thinking budget is a whole number from 0 to 32768, or -1 for dynamic'),
)

/**
 * Thinking, as gemini-balance configured it: `-non-thinking` variants of THINKING_MODELS, budgets per model from
 * THINKING_BUDGET_MAP, and SHOW_THINKING_PROCESS deciding whether thought summaries reach the client. What a client
 * set itself (a thinkingConfig, or what its dialect decoded from reasoning_effort, `thinking`, `reasoning`) is never
 * overwritten. Only generate calls of the converted and native dialects are touched.
 */
export default definePlugin({
  name: 'thinking',
  summary: 'Thinking control: `-non-thinking` model variants, thinking budgets per model, thought summaries shown or hidden.',
  options: v.strictObject({
    models: v.optional(v.array(v.string()), []),
    budgets: v.optional(v.record(v.string(), budget), {}),
    showThoughts: v.optional(v.boolean(), true),
  }),
  env: {
    models: { env: 'THINKING_MODELS', kind: 'list' },
    budgets: { env: 'THINKING_BUDGET_MAP', kind: 'json' },
    showThoughts: { env: 'SHOW_THINKING_PROCESS', kind: 'bool' },
  },
  docs: {
    models:
      'models that get a `-non-thinking` variant (thinking off, or the least the model takes), and whose thought summaries are asked for when showThoughts is on',
    budgets: 'thinkingBudget per real model name (0..32768, -1 = dynamic; 0 = the least the model takes), used when the client set none',
    showThoughts:
      'ask for thought summaries (OpenAI reasoning_content, Anthropic thinking blocks, Responses reasoning items); off removes thought parts from every answer',
  },

  setup({ models, budgets, showThoughts }) {
    const thinkingModels = new Set(models)
    // A Map: a model named `constructor` must not find Object's.
    const budgetOf = new Map(Object.entries(budgets))

    /** What to ask of Google for this model, decided before the body is looked at (so other requests keep their bytes). */
    const wanted = (model: string, nonThinking: boolean): ThinkingConfig | undefined => {
      if (nonThinking) return leastThinking(model)
      const given = budgetOf.get(model)
      if (given === 0) return leastThinking(model)
      if (given !== undefined) return showThoughts ? { thinkingBudget: given, includeThoughts: true } : { thinkingBudget: given }
      return showThoughts && thinkingModels.has(model) ? { includeThoughts: true } : undefined
    }

    return {
      variants: [{ suffix: NON_THINKING, appliesTo: (base) => thinkingModels.has(base) }],

      transformRequest(request) {
        if (!GENERATES.has(request.operation) || request.dialect === 'openai-passthrough') return
        const config = wanted(request.upstreamModel, request.variants?.has(NON_THINKING) === true)
        if (config) askUnlessClientDid(request, config)
      },

      // Hiding thoughts is the operator's call on every answer, whoever asked for them; showing them needs no hook.
      ...(showThoughts ? {} : { transformResponse: removeThoughts, transformChunk: removeThoughts, chunksWith: ['"thought"'] }),
    }
  },
})

/**
 * Puts `config` in the body's generationConfig unless the client (or its dialect) already set a thinkingConfig, which
 * always wins whole. Either casing is honoured, as Google's parser takes both.
 */
function askUnlessClientDid(request: GatewayRequest, config: ThinkingConfig): void {
  const body = request.body
  const key = body.generationConfig == null && body.generation_config != null ? 'generation_config' : 'generationConfig'
  const generation: unknown = body[key]
  if (generation == null) {
    body[key] = { thinkingConfig: config }
    return
  }
  // A generationConfig that is not an object is the client's mistake, for Google to answer.
  if (typeof generation !== 'object' || Array.isArray(generation)) return
  const fields = generation as Record<string, unknown>
  if (fields.thinkingConfig != null || fields.thinking_config != null) return
  fields.thinkingConfig = config
}
