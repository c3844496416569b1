import { describe, expect, it } from 'vitest'
import type { Operation } from '../../core/context.ts'
import { MAX_EMBEDDING_INPUTS, decodeEmbeddingsRequest } from '../../core/dialects/openai/embeddings.ts'
import { openaiErrorObject } from '../../core/dialects/openai/errors.ts'
import { GatewayError } from '../../core/errors.ts'
import { createOperationTable } from '../../core/upstream/operations.ts'

const operationSpec = createOperationTable()

describe("embeddings: at most 2,048 inputs per request (OpenAI's own limit)", () => {
  const request = (count: number) => ({ model: 'gemini-embedding-001', input: Array.from({ length: count }, (_, i) => `text ${i}`) })

  it('2,048 pass, 2,049 are a 400 on "input" in OpenAI\'s error shape', () => {
    expect(MAX_EMBEDDING_INPUTS).toBe(2048)
    expect(decodeEmbeddingsRequest(request(2048)).inputs).toHaveLength(2048)
    let refused: unknown
    try {
      decodeEmbeddingsRequest(request(2049))
    } catch (error) {
      refused = error
    }
    expect(refused).toBeInstanceOf(GatewayError)
    expect(openaiErrorObject(refused as GatewayError)).toEqual({
      error: {
        message: "Invalid value for 'input': 2049 inputs given; at most 2048 are allowed per request.",
        type: 'invalid_request_error',
        param: 'input',
        code: 'invalid_value',
      },
    })
  })
})

describe('the operation table: only the operations it knows', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('"%s" is unknown, not an inherited property', (name) => {
    expect(() => operationSpec(name as Operation)).toThrow(`unknown upstream operation "${name}"`)
  })

  it('the operations whose path carries the model say so', () => {
    expect(operationSpec('generateContent').modelInPath).toBe(true)
    expect(operationSpec('getModel').modelInPath).toBe(true)
    expect(operationSpec('openai.model').modelInPath).toBe(true)
    expect(operationSpec('listModels').modelInPath).toBe(false)
    expect(operationSpec('openai.chat').modelInPath).toBe(false)
  })
})
