import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KEYS, TOKEN, startGateway, type Running } from './harness.ts'

/**
 * Gemini's code execution parts (executableCode, codeExecutionResult) reach OpenAI, Responses and Anthropic clients
 * as markdown in the answer text, streamed or not, read through the official SDKs.
 */

const MODEL = 'gemini-2.5-flash'

const CODE = { executableCode: { language: 'PYTHON', code: "primes = [2, 3, 5, 7, 11]\nprint(f'{sum(primes)=}')\n" } }
const OK = { codeExecutionResult: { outcome: 'OUTCOME_OK', output: 'sum(primes)=28\n' } }
const FAILED = { codeExecutionResult: { outcome: 'OUTCOME_FAILED', output: 'NameError: name "prime" is not defined\n' } }
const TEXT = { text: 'The sum is 28.' }

const CODE_MD = "\n\n```python\nprimes = [2, 3, 5, 7, 11]\nprint(f'{sum(primes)=}')\n```\n"
const OK_MD = '\n\n```output\nsum(primes)=28\n```\n'
const FAILED_MD = '\n\n```error\nNameError: name "prime" is not defined\n```\n'

const usageMetadata = { promptTokenCount: 21, candidatesTokenCount: 96, toolUsePromptTokenCount: 160, totalTokenCount: 277 }
const answer = (parts: unknown[]) => ({
  candidates: [{ content: { parts, role: 'model' }, finishReason: 'STOP', index: 0 }],
  usageMetadata,
  modelVersion: MODEL,
  responseId: 'codeRun1',
})
/** The streamed form: one part per chunk, as Gemini sends code execution, the finishReason on the last. */
const chunks = (parts: unknown[]) =>
  parts.map((part, i) => ({
    candidates: [{ content: { parts: [part], role: 'model' }, ...(i === parts.length - 1 ? { finishReason: 'STOP' } : {}), index: 0 }],
    usageMetadata,
    modelVersion: MODEL,
    responseId: 'codeRun1',
  }))

describe('code execution parts as markdown', () => {
  let gw: Running
  let openai: OpenAI
  let anthropic: Anthropic

  beforeAll(async () => {
    gw = await startGateway()
    openai = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    anthropic = new Anthropic({ apiKey: TOKEN, baseURL: gw.url, maxRetries: 0 })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  const scriptAll = (scripted: { json?: unknown; chunks?: unknown[] }) => {
    for (const key of KEYS) gw.upstream.script(key, scripted)
  }
  const ask = [{ role: 'user' as const, content: 'Sum the first 5 primes with code.' }]

  it('openai chat, non-stream: code fenced with its language, the output fenced as output, then the text', async () => {
    scriptAll({ json: answer([CODE, OK, TEXT]) })
    const completion = await openai.chat.completions.create({ model: MODEL, messages: ask })
    expect(completion.choices[0]!.message.content).toBe(CODE_MD + OK_MD + 'The sum is 28.')
    expect(completion.choices[0]!.finish_reason).toBe('stop')
  })

  it('openai chat, stream: the same markdown arrives as deltas; a failed run is fenced as error', async () => {
    scriptAll({ chunks: chunks([CODE, FAILED, TEXT]) })
    const stream = await openai.chat.completions.create({ model: MODEL, messages: ask, stream: true })
    const deltas: string[] = []
    for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) deltas.push(chunk.choices[0].delta.content)
    expect(deltas).toEqual([CODE_MD, FAILED_MD, 'The sum is 28.'])
  })

  it('openai responses, non-stream and stream: one message with the markdown', async () => {
    scriptAll({ json: answer([CODE, OK, TEXT]) })
    const response = await openai.responses.create({ model: MODEL, input: 'Sum the first 5 primes with code.' })
    expect(response.output_text).toBe(CODE_MD + OK_MD + 'The sum is 28.')
    scriptAll({ chunks: chunks([CODE, OK, TEXT]) })
    let streamed = ''
    for await (const event of await openai.responses.create({ model: MODEL, input: 'again', stream: true })) {
      if (event.type === 'response.output_text.delta') streamed += event.delta
    }
    expect(streamed).toBe(CODE_MD + OK_MD + 'The sum is 28.')
  })

  it('anthropic, non-stream: one text block with the markdown', async () => {
    scriptAll({ json: answer([CODE, OK, TEXT]) })
    const message = await anthropic.messages.create({ model: MODEL, max_tokens: 256, messages: ask })
    expect(message.content).toMatchObject([{ type: 'text', text: CODE_MD + OK_MD + 'The sum is 28.' }])
    expect(message.stop_reason).toBe('end_turn')
  })

  it('anthropic, stream: text deltas of the markdown, one text block in the final message', async () => {
    scriptAll({ chunks: chunks([CODE, FAILED, TEXT]) })
    const stream = anthropic.messages.stream({ model: MODEL, max_tokens: 256, messages: ask })
    const deltas: string[] = []
    stream.on('text', (delta) => void deltas.push(delta))
    const message = await stream.finalMessage()
    expect(deltas).toEqual([CODE_MD, FAILED_MD, 'The sum is 28.'])
    expect(message.content).toMatchObject([{ type: 'text', text: CODE_MD + FAILED_MD + 'The sum is 28.' }])
  })
})
