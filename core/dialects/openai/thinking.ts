import { isObject, type Json } from '../../internal/json.ts'
import { invalid, optString } from './validate.ts'

const EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const
type Effort = (typeof EFFORTS)[number]

/** Gemini 2.5 budgets, as Google's own OpenAI layer maps them (low 1K, medium 8K, high 24K). */
const BUDGET: Record<Effort, number> = { none: 0, minimal: 1024, low: 1024, medium: 8192, high: 24576, xhigh: 24576 }

/**
 * reasoning_effort → thinkingConfig, only when the client asked (no default is injected):
 * - Gemini 3+: thinkingLevel. Flash models take all four levels; Pro models only low/high, so minimal → low and
 *   medium → high there. Gemini 3 cannot switch thinking off: none → the lowest level the model has.
 * - Gemini 2.5 and unknown names: thinkingBudget (Gemini 3 accepts budgets too). none → 0, except on 2.5 Pro, which
 *   cannot stop thinking: 128, its minimum.
 * - Models without thinking (gemini 1.x/2.0, gemma): ignored, as they would refuse any thinkingConfig.
 * Whenever thinking stays on, includeThoughts is set so the thoughts come back as reasoning_content.
 * Google's own `extra_body.google.thinking_config` (snake_case) wins over reasoning_effort when both are sent.
 */
export function thinkingConfig(body: Json, model: string, google: Json | undefined): Json | undefined {
  const explicit = google?.thinking_config ?? google?.thinkingConfig
  if (isObject(explicit)) return camelThinking(explicit)

  const effort = optString(body, 'reasoning_effort')
  if (effort === undefined) return undefined
  if (!(EFFORTS as readonly string[]).includes(effort)) {
    throw invalid('reasoning_effort', `expected one of ${EFFORTS.join(', ')}; got "${effort.slice(0, 32)}".`)
  }
  const level = effort as Effort
  const family = familyOf(model)
  if (family === 'none') return undefined
  if (family === 'gemini3') {
    const flash = /flash/.test(model)
    const choice = flash
      ? { none: 'minimal', minimal: 'minimal', low: 'low', medium: 'medium', high: 'high', xhigh: 'high' }[level]
      : level === 'none' || level === 'minimal' || level === 'low'
        ? 'low'
        : 'high'
    // Gemini 3 cannot stop thinking; for "none" it thinks as little as it can and the thoughts stay hidden.
    return level === 'none' ? { thinkingLevel: choice } : { thinkingLevel: choice, includeThoughts: true }
  }
  if (level === 'none') return { thinkingBudget: /2\.5-pro/.test(model) ? 128 : 0 }
  return { thinkingBudget: BUDGET[level], includeThoughts: true }
}

function familyOf(model: string): 'gemini3' | 'budget' | 'none' {
  if (/gemini-([3-9]|\d\d)/.test(model)) return 'gemini3'
  if (/gemini-(1\.|2\.0)|gemma|learnlm|embedding|imagen|veo/.test(model)) return 'none'
  return 'budget'
}

// A Map: the keys are the client's, and `constructor` must not find Object's (a function as a field name).
const THINKING_KEYS: ReadonlyMap<string, string> = new Map([
  ['thinking_budget', 'thinkingBudget'],
  ['include_thoughts', 'includeThoughts'],
  ['thinking_level', 'thinkingLevel'],
])

/** Other keys pass through as sent; fromEntries keeps a `__proto__` key a plain field instead of setting the prototype. */
function camelThinking(config: Json): Json {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [THINKING_KEYS.get(key) ?? key, value]))
}
