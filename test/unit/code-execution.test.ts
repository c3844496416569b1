import { describe, expect, it } from 'vitest'
import { codeExecutionMarkdown } from '../../core/dialects/shared/code-execution.ts'

describe('code execution parts → markdown', () => {
  it.each([
    ['code with its language', { executableCode: { language: 'PYTHON', code: 'print(1)\n' } }, '\n\n```python\nprint(1)\n```\n'],
    ['code of no stated language', { executableCode: { language: 'LANGUAGE_UNSPECIFIED', code: 'x' } }, '\n\n```\nx\n```\n'],
    ['a successful run', { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '1\n' } }, '\n\n```output\n1\n```\n'],
    ['a failed run', { codeExecutionResult: { outcome: 'OUTCOME_FAILED', output: 'Traceback\n' } }, '\n\n```error\nTraceback\n```\n'],
    ['a run out of time, no output (proto3 leaves it out)', { codeExecutionResult: { outcome: 'OUTCOME_DEADLINE_EXCEEDED' } }, '\n\n```timeout\n```\n'],
    ['an outcome Gemini may add later', { codeExecutionResult: { outcome: 'OUTCOME_NEW', output: 'x' } }, '\n\n```output\nx\n```\n'],
    ['an outcome named like an Object property', { codeExecutionResult: { outcome: 'constructor', output: 'x' } }, '\n\n```output\nx\n```\n'],
    [
      'output that prints a fence gets a longer fence',
      { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '```js\nx\n```' } },
      '\n\n````output\n```js\nx\n```\n````\n',
    ],
  ])('%s', (_name, part, markdown) => {
    expect(codeExecutionMarkdown(part)).toBe(markdown)
  })

  it('other parts are not code execution', () => {
    expect(codeExecutionMarkdown({ text: 'hi' })).toBeUndefined()
    expect(codeExecutionMarkdown({ inlineData: { mimeType: 'image/png', data: 'AA' } })).toBeUndefined()
  })
})
