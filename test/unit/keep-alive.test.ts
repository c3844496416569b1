import type { H3Event } from 'h3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { RequestContext } from '../../core/context.ts'
import { anthropicDialect } from '../../core/dialects/anthropic/dialect.ts'
import { geminiDialect } from '../../core/dialects/gemini.ts'
import { openaiPassthroughDialect } from '../../core/dialects/openai-passthrough.ts'
import { openaiDialect } from '../../core/dialects/openai/dialect.ts'
import { responsesDialect } from '../../core/dialects/responses/dialect.ts'
import type { Dialect } from '../../core/dialects/types.ts'
import { GatewayError } from '../../core/errors.ts'
import { Payload } from '../../core/payload.ts'

/**
 * Payload.keepAlive through every dialect's stream encoder (its Dialect.respond, as the runner calls it): each renders
 * it as its wire's heartbeat, and removing those heartbeats leaves exactly the stream the same chunks make without them.
 */

const K = Payload.keepAlive

const chunk = (text: string, finishReason?: string) =>
  Payload.fromData({
    candidates: [{ content: { parts: [{ text }], role: 'model' }, ...(finishReason ? { finishReason } : {}), index: 0 }],
    usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
    modelVersion: 'gemini-2.5-flash',
    responseId: 'R1',
  })
const ANSWER = [chunk('Hel'), chunk('lo', 'STOP')]

/** Where the keep-alives go: before the first chunk, between chunks, after the last one, and all of these at once. */
const PLACEMENTS: [name: string, items: Payload[]][] = [
  ['start', [K, ...ANSWER]],
  ['middle', [ANSWER[0]!, K, ANSWER[1]!]],
  ['end', [...ANSWER, K]],
  ['everywhere', [K, K, ANSWER[0]!, K, K, ANSWER[1]!, K]],
]

async function* stream(items: readonly Payload[], failure?: Error): AsyncGenerator<Payload> {
  for (const item of items) yield item
  if (failure) throw failure
}

function contextFor(dialectOptions?: Record<string, unknown>): RequestContext {
  return { id: 'req-1', request: { model: 'gemini-2.5-flash', operation: 'streamGenerateContent', dialectOptions } } as unknown as RequestContext
}

async function render(dialect: Dialect, items: readonly Payload[], ctx: RequestContext, url: string, failure?: Error): Promise<string> {
  const event = { req: new Request(url), url: new URL(url) } as unknown as H3Event
  return dialect.respond({ kind: 'stream', chunks: stream(items, failure) }, ctx, event).text()
}

const NATIVE_SSE = 'http://gw/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'
const NATIVE_ARRAY = 'http://gw/v1beta/models/gemini-2.5-flash:streamGenerateContent'
const OTHER = 'http://gw/v1/anything'

interface Wire {
  name: string
  dialect: Dialect
  ctx: RequestContext
  url: string
  heartbeat: string
}

const WIRES: Wire[] = [
  { name: 'native Gemini, alt=sse', dialect: geminiDialect, ctx: contextFor(), url: NATIVE_SSE, heartbeat: ': keep-alive\r\n\r\n' },
  {
    name: 'OpenAI chat',
    dialect: openaiDialect,
    ctx: contextFor({ kind: 'chat', model: 'gpt-ish', n: 1, includeUsage: true }),
    url: OTHER,
    heartbeat: ': keep-alive\n\n',
  },
  {
    name: 'OpenAI Responses',
    dialect: responsesDialect,
    ctx: contextFor({ kind: 'response', model: 'gemini-2.5-flash', createdAt: 1767225600, echo: {} }),
    url: OTHER,
    heartbeat: ': keep-alive\n\n',
  },
  {
    name: 'Anthropic',
    dialect: anthropicDialect,
    ctx: contextFor({ model: 'claude-ish', thinking: false }),
    url: OTHER,
    heartbeat: 'event: ping\ndata: {"type":"ping"}\n\n',
  },
  { name: 'OpenAI pass-through', dialect: openaiPassthroughDialect, ctx: contextFor(), url: OTHER, heartbeat: ': keep-alive\n\n' },
]

// Responses item ids are random; everything else the encoders write is fixed by the chunks and the clock.
const sameIds = (text: string) => text.replace(/_[0-9a-f]{32}\b/g, '_ID')

describe('keep-alives in every dialect', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 0, 1) }))
  afterEach(() => void vi.useRealTimers())

  for (const wire of WIRES) {
    describe(wire.name, () => {
      it.each(PLACEMENTS)('%s: one heartbeat per keep-alive, and the stream is otherwise unchanged', async (placement, items) => {
        const plain = await render(wire.dialect, ANSWER, wire.ctx, wire.url)
        const text = await render(wire.dialect, items, wire.ctx, wire.url)
        const count = items.filter((item) => item.keepAlive).length
        expect(text.split(wire.heartbeat).length - 1).toBe(count)
        expect(plain).not.toContain(wire.heartbeat)
        expect(sameIds(text.replaceAll(wire.heartbeat, ''))).toBe(sameIds(plain))
        if (placement === 'start') expect(text.startsWith(wire.heartbeat)).toBe(true)
        if (placement === 'middle' || placement === 'end') {
          expect(text.startsWith(wire.heartbeat)).toBe(false)
          expect(text.endsWith(wire.heartbeat)).toBe(wire.dialect === geminiDialect || wire.dialect === openaiPassthroughDialect ? placement === 'end' : false)
        }
      })

      it('a keep-alive right before the upstream breaks: the heartbeat, then the error', async () => {
        const failure = new GatewayError(502, 'The Gemini stream broke.')
        const text = await render(wire.dialect, [ANSWER[0]!, K], wire.ctx, wire.url, failure)
        const after = text.slice(text.indexOf(wire.heartbeat) + wire.heartbeat.length)
        expect(text.split(wire.heartbeat).length - 1).toBe(1)
        expect(after).toContain('The Gemini stream broke.')
        expect(sameIds(text.replace(wire.heartbeat, ''))).toBe(sameIds(await render(wire.dialect, [ANSWER[0]!], wire.ctx, wire.url, failure)))
      })
    })
  }
})

describe('native Gemini without alt=sse: keep-alives are whitespace inside the JSON array', () => {
  const array = (items: readonly Payload[], failure?: Error) => render(geminiDialect, items, contextFor(), NATIVE_ARRAY, failure)
  const elements = ANSWER.map((p) => p.data)

  it.each(PLACEMENTS)('%s: still one valid JSON array of the same elements', async (_placement, items) => {
    const text = await array(items)
    expect(text.startsWith('[')).toBe(true)
    expect(JSON.parse(text)).toEqual(elements)
    expect(text.replace(/\s/g, '')).toBe((await array(ANSWER)).replace(/\s/g, ''))
    expect(text.split('\n').length).toBeGreaterThan((await array(ANSWER)).split('\n').length)
  })

  it('a keep-alive first opens the array: the first element follows without a comma', async () => {
    expect(await array([K, ANSWER[0]!])).toBe(`[\n${ANSWER[0]!.text}\n]`)
  })

  it('keep-alives only: an empty array; a keep-alive then a failure: an array holding the error', async () => {
    const only = await array([K, K])
    expect(only).toBe('[\n\n\n]')
    expect(JSON.parse(only)).toEqual([])
    const broken = JSON.parse(await array([K], new GatewayError(503, 'overloaded')))
    expect(broken).toEqual([{ error: { code: 503, message: 'overloaded', status: 'UNAVAILABLE' } }])
  })

  it('a keep-alive between elements keeps the comma between them', async () => {
    const text = await array([ANSWER[0]!, K, ANSWER[1]!])
    expect(text).toBe(`[${ANSWER[0]!.text}\n\n,\n${ANSWER[1]!.text}\n]`)
  })
})
