import { isObject, type Json } from '../../internal/json.ts'

/**
 * Gemini's code execution parts as markdown, for the dialects that have no such part (OpenAI chat, Responses,
 * Anthropic): the code as a fenced block tagged with its language, the result as a fenced block labelled with how the
 * run ended. Chat apps show a fence's tag as the block's title, so the label is a plain word a reader understands
 * (`output`, `error`, `timeout`); the model reads it back as well when the client returns the history.
 * Undefined for any other part.
 */
export function codeExecutionMarkdown(part: Json): string | undefined {
  if (isObject(part.executableCode)) {
    const language = typeof part.executableCode.language === 'string' ? part.executableCode.language.toLowerCase() : ''
    return fenced(language === 'language_unspecified' ? '' : language, part.executableCode.code)
  }
  if (isObject(part.codeExecutionResult)) {
    // proto3 leaves an empty output out: a run that printed nothing still shows how it ended.
    return fenced(OUTCOME_LABELS.get(part.codeExecutionResult.outcome) ?? 'output', part.codeExecutionResult.output)
  }
  return undefined
}

const OUTCOME_LABELS: ReadonlyMap<unknown, string> = new Map([
  ['OUTCOME_OK', 'output'],
  ['OUTCOME_FAILED', 'error'],
  ['OUTCOME_DEADLINE_EXCEEDED', 'timeout'],
])

/**
 * A block of its own (a blank line before it), whose fence is longer than any backtick run in the text, so code that
 * prints a markdown fence cannot close the block early.
 */
function fenced(tag: string, body: unknown): string {
  const text = typeof body === 'string' ? body.replace(/\n$/, '') : ''
  const longest = Math.max(0, ...Array.from(text.matchAll(/`{3,}/g), (run) => run[0].length))
  const fence = '`'.repeat(Math.max(3, longest + 1))
  return `\n\n${fence}${tag}\n${text}${text === '' ? '' : '\n'}${fence}\n`
}
