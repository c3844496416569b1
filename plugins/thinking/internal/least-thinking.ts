/** The thinkingConfig fields this plugin writes (Google's names, wire samples §1.2). */
export interface ThinkingConfig {
  thinkingBudget?: number
  thinkingLevel?: 'minimal' | 'low'
  includeThoughts?: boolean
}

interface Family {
  matches: RegExp
  /** The least thinking the family takes; undefined: leave the request alone. */
  least: ThinkingConfig | undefined
  why: string
}

/**
 * How to ask each model family for the least thinking it takes (`-non-thinking`, a budget of 0). First match wins.
 * Gemini 3 levels are written in lowercase, as Google's docs send them (the API takes both cases).
 */
const FAMILIES: readonly Family[] = [
  {
    matches: /^(?:gemini-(?:1\.|2\.0)|gemma-|learnlm-)/,
    least: undefined,
    why: 'they do not think at all; a thinkingConfig would only risk a 400, so the request goes as the client sent it',
  },
  {
    matches: /^gemini-2\.5-pro/,
    least: { thinkingBudget: 128 },
    why: '2.5 Pro cannot stop thinking: a budget of 0 is refused with a 400, and 128 is the least it accepts',
  },
  {
    matches: /^gemini-(?:[3-9]|\d{2,})(?:\.\d+)?-pro/,
    least: { thinkingLevel: 'low' },
    why: 'Gemini 3 Pro cannot stop thinking and takes only the levels low and high; low is its least',
  },
  {
    matches: /^gemini-(?:[3-9]|\d{2,})/,
    least: { thinkingLevel: 'minimal' },
    why: 'Gemini 3 Flash models cannot stop thinking either; they are steered by level (budgets are kept only for compatibility) and minimal is their least',
  },
  {
    matches: /(?:)/,
    least: { thinkingBudget: 0 },
    why: 'a budget of 0 switches thinking off on 2.5 Flash and Flash-Lite, and a budget is the form every other thinking model takes',
  },
]

/** The thinkingConfig that makes `model` think least, or undefined when it does not think (a fresh object each call). */
export function leastThinking(model: string): ThinkingConfig | undefined {
  const least = FAMILIES.find((family) => family.matches.test(model))?.least
  return least && { ...least }
}
