import { describe, expect, it } from 'vitest'
import { closeReason, fieldOf, liveEndpoint, liveVersion, sendableCode, setupModel } from './internal/protocol.ts'

describe('the Live protocol helpers', () => {
  it("finds Google's Live endpoint on BASE_URL's host, keeping a relay's path", () => {
    const method = 'GenerativeService.BidiGenerateContent'
    expect(liveEndpoint('https://generativelanguage.googleapis.com/v1beta', 'v1beta')).toBe(
      `wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.${method}`,
    )
    expect(liveEndpoint('https://relay.example/google/v1beta/', 'v1alpha')).toBe(`wss://relay.example/google/ws/google.ai.generativelanguage.v1alpha.${method}`)
    expect(liveEndpoint('http://127.0.0.1:8080/v1beta?x=1', 'v1beta')).toBe(`ws://127.0.0.1:8080/ws/google.ai.generativelanguage.v1beta.${method}`)
    expect(liveVersion(`google.ai.generativelanguage.v1alpha.${method}`)).toBe('v1alpha')
    expect(liveVersion(`google.ai.generativelanguage.v1beta.${method}Constrained`)).toBeUndefined()
  })

  it('reads the setup model and top-level fields, from text and from bytes', () => {
    expect(setupModel('{"setup":{"model":"models/gemini-live-2.5-flash-preview"}}')).toBe('gemini-live-2.5-flash-preview')
    expect(setupModel(Buffer.from('{"setup":{"model":"gemini-2.0-flash-live-001"}}'))).toBe('gemini-2.0-flash-live-001')
    for (const notSetup of ['{"clientContent":{}}', '{"setup":{"model":"../x"}}', 'not json', 'null']) expect(setupModel(notSetup)).toBeUndefined()
    expect(fieldOf(Buffer.from('{"usageMetadata":{"totalTokenCount":3}}'), 'usageMetadata')).toEqual({ totalTokenCount: 3 })
    // Named inside the content only: not the field.
    expect(fieldOf('{"serverContent":{"modelTurn":{"parts":[{"text":"usageMetadata"}]}}}', 'usageMetadata')).toBeUndefined()
  })

  it('sends on only the close codes a close frame may carry, and reasons within 123 bytes', () => {
    expect([1000, 1007, 1008, 1011, 1013, 4000].every(sendableCode)).toBe(true)
    expect([1004, 1005, 1006, 1015, 999, 2000, 5000, undefined].some(sendableCode)).toBe(false)
    const long = 'é'.repeat(100)
    expect(Buffer.byteLength(closeReason(long))).toBeLessThanOrEqual(123)
    expect(closeReason(long).endsWith('…')).toBe(true)
    expect(closeReason('short')).toBe('short')
  })
})
