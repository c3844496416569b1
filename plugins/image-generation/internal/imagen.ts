import { isObject, type GeminiResponse, type InlineImage } from 'gemgate'
import type { Drawing } from './request.ts'

/**
 * The Imagen `:predict` body (wire samples §4) for a drawing, with gemini-balance's settings: PNG output, the
 * strictest safety filter Google offers, adults allowed in pictures (no children).
 */
export function predictBody(drawing: Drawing): Record<string, unknown> {
  return {
    instances: [{ prompt: drawing.prompt }],
    parameters: {
      sampleCount: drawing.count,
      aspectRatio: drawing.aspectRatio,
      outputOptions: { mimeType: 'image/png' },
      safetySetting: 'block_low_and_above',
      personGeneration: 'allow_adult',
    },
  }
}

export interface Predicted extends InlineImage {
  /** The prompt Imagen drew, when it rewrote the one it was given. */
  prompt?: string
}

/** The images of a `:predict` answer, and why any were left out (`raiFilteredReason`). */
export function readPredictions(answer: unknown): { images: Predicted[]; filtered: string[] } {
  const images: Predicted[] = []
  const filtered: string[] = []
  const predictions: unknown[] = isObject(answer) && Array.isArray(answer.predictions) ? answer.predictions : []
  for (const prediction of predictions) {
    if (!isObject(prediction)) continue
    if (typeof prediction.bytesBase64Encoded === 'string' && prediction.bytesBase64Encoded !== '') {
      const image: Predicted = { mimeType: typeof prediction.mimeType === 'string' ? prediction.mimeType : 'image/png', data: prediction.bytesBase64Encoded }
      if (typeof prediction.prompt === 'string' && prediction.prompt !== '') image.prompt = prediction.prompt
      images.push(image)
    } else if (typeof prediction.raiFilteredReason === 'string') {
      filtered.push(prediction.raiFilteredReason)
    }
  }
  return { images, filtered }
}

/** Why a request got no image, in words for the client. */
export const noImageMessage = (filtered: readonly string[]): string =>
  filtered.length > 0 ? `No image was generated: ${filtered.join(' ')}` : 'No image was generated for this prompt.'

/**
 * Imagen's images as a Gemini answer, so every dialect renders them as it renders an image model's: one inlineData
 * part per image. Without images the answer says why in text and finishes as Gemini's image models do then
 * (IMAGE_SAFETY when Google filtered them, NO_IMAGE otherwise).
 */
export function imagesAnswer(model: string, predicted: { images: Predicted[]; filtered: string[] }): GeminiResponse {
  const { images, filtered } = predicted
  const parts = images.length > 0 ? images.map(({ mimeType, data }) => ({ inlineData: { mimeType, data } })) : [{ text: noImageMessage(filtered) }]
  const finishReason = images.length > 0 ? 'STOP' : filtered.length > 0 ? 'IMAGE_SAFETY' : 'NO_IMAGE'
  return { candidates: [{ content: { role: 'model', parts }, finishReason, index: 0 }], modelVersion: model }
}

/** The text of the last user turn of a Gemini request (the prompt of a chat on the image model). */
export function lastUserText(body: Record<string, any>): string {
  const contents: unknown[] = Array.isArray(body.contents) ? body.contents : []
  for (let i = contents.length - 1; i >= 0; i--) {
    const content = contents[i]
    if (!isObject(content) || (content.role !== undefined && content.role !== 'user')) continue
    const parts: unknown[] = Array.isArray(content.parts) ? content.parts : []
    return parts.flatMap((part) => (isObject(part) && typeof part.text === 'string' && part.thought !== true ? [part.text] : [])).join('\n')
  }
  return ''
}
