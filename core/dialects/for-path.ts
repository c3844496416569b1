import { anthropicDialect } from './anthropic/dialect.ts'
import { geminiDialect } from './gemini.ts'
import { openaiDialect } from './openai/dialect.ts'
import type { Dialect } from './types.ts'

const ANTHROPIC = /^\/v1\/messages(\/|$)/
const OPENAI = /^\/(hf\/|openai\/)?v1(\/|$)/

/**
 * The dialect whose clients call this path, for answers no route gave (unknown paths, errors thrown outside a
 * route's own handling): an SDK can only read an error in the shape it expects. Anthropic's Messages API lives under
 * /v1/messages, OpenAI's under /v1, /hf/v1 and /openai/v1; everything else is Gemini's.
 */
export function dialectForPath(path: string): Dialect {
  if (ANTHROPIC.test(path)) return anthropicDialect
  if (OPENAI.test(path)) return openaiDialect
  return geminiDialect
}
