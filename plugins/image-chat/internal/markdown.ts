import type { GeminiResponse } from 'gemgate'
import { dataUrl, type InlineImage } from 'gemgate'

/** One image part of an answer, where it sits, so its replacement goes to the same place. */
interface ImageSlot {
  parts: Record<string, any>[]
  index: number
  image: InlineImage
}

/**
 * The image parts of an answer (or stream chunk), every candidate's. Thought images (drafts a model shows while it
 * thinks) are left alone: the dialects drop thought parts that are not text, as they should.
 */
function imageSlots(response: GeminiResponse): ImageSlot[] {
  const slots: ImageSlot[] = []
  if (!Array.isArray(response.candidates)) return slots
  for (const candidate of response.candidates) {
    const parts = candidate?.content?.parts
    if (!Array.isArray(parts)) continue
    parts.forEach((part, index) => {
      const inline = part?.inlineData
      if (part?.thought === true || typeof inline?.data !== 'string' || typeof inline.mimeType !== 'string' || !inline.mimeType.startsWith('image/')) return
      slots.push({ parts, index, image: { mimeType: inline.mimeType, data: inline.data } })
    })
  }
  return slots
}

/** An image as a markdown text part; a thought signature on the image stays with what replaces it. */
function markdownPart(url: string, original: Record<string, any>): Record<string, any> {
  const part: Record<string, any> = { text: `\n\n![image](${url})\n\n` }
  if (typeof original.thoughtSignature === 'string') part.thoughtSignature = original.thoughtSignature
  return part
}

/**
 * Replaces each image part of `response` by a text part holding a markdown image, in place. Without an uploader
 * the images become data URLs at once (no promise); with one, the answer's images are uploaded in parallel and the
 * promise settles when the last one has its URL.
 */
export function imagesToMarkdown(response: GeminiResponse, upload?: (image: InlineImage) => Promise<string>): void | Promise<void> {
  const slots = imageSlots(response)
  if (slots.length === 0) return
  if (!upload) {
    for (const slot of slots) slot.parts[slot.index] = markdownPart(dataUrl(slot.image), slot.parts[slot.index]!)
    return
  }
  return Promise.all(slots.map((slot) => upload(slot.image))).then((urls) => {
    slots.forEach((slot, i) => (slot.parts[slot.index] = markdownPart(urls[i]!, slot.parts[slot.index]!)))
  })
}
