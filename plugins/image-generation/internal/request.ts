import { badRequest } from 'gemgate'

/** The aspect ratios Imagen takes, with their width / height. */
const ASPECT_RATIOS = { '1:1': 1, '3:4': 3 / 4, '4:3': 4 / 3, '9:16': 9 / 16, '16:9': 16 / 9 } as const
export type AspectRatio = keyof typeof ASPECT_RATIOS
const RATIO_NAMES = Object.keys(ASPECT_RATIOS).join(', ')

/** Imagen makes 1 to 4 images per call. */
const MAX_IMAGES = 4
/** How far (as a factor) a pixel size may be from an aspect ratio to take it: 1536x1024 (3:2) is drawn at 4:3. */
const SIZE_TOLERANCE = 1.15

/** What to draw: the prompt without its `{n:K}` / `{ratio:W:H}` directives, how many, in which shape. */
export interface Drawing {
  prompt: string
  count: number
  aspectRatio: AspectRatio
}

export interface ImagesRequest extends Drawing {
  /** An Imagen model the client named; OpenAI's names (dall-e-3, gpt-image-1) leave the choice to CREATE_IMAGE_MODEL. */
  imagenModel?: string
  format: 'url' | 'b64_json'
}

/**
 * An OpenAI `POST /v1/images/generations` body, checked. Fields OpenAI has and Imagen does not (quality, style,
 * background, user, ...) are ignored, as gemini-balance did; every refusal is a 400 naming its field.
 */
export function readImagesRequest(body: Record<string, unknown>): ImagesRequest {
  // null counts as absent, as in OpenAI's API.
  const field = (name: string) => body[name] ?? undefined
  const [model, prompt, n, size, format] = ['model', 'prompt', 'n', 'size', 'response_format'].map(field)
  if (model !== undefined && typeof model !== 'string') throw badRequest('model must be a string.', 'model')
  if (typeof prompt !== 'string' || prompt.trim() === '') throw badRequest('prompt must be the description of the image to draw.', 'prompt')
  if (n !== undefined && !isCount(n))
    throw badRequest(`n must be a whole number from 1 to ${MAX_IMAGES} (Imagen draws at most ${MAX_IMAGES} images per request).`, 'n')
  if (format !== undefined && format !== 'url' && format !== 'b64_json') throw badRequest('response_format must be "url" or "b64_json".', 'response_format')
  if (field('stream') === true) throw badRequest('stream is not supported: Imagen draws each image whole, the answer comes as one JSON body.', 'stream')
  const drawing = readDrawing(prompt, { count: (n as number | undefined) ?? 1, aspectRatio: size === undefined || size === 'auto' ? '1:1' : sizeRatio(size) })
  return {
    ...drawing,
    imagenModel: typeof model === 'string' && /^(models\/)?imagen-/i.test(model) ? model : undefined,
    format: format ?? 'url',
  }
}

/**
 * The prompt's own directives, gemini-balance's syntax: `{n:K}` (1-4) and `{ratio:W:H}` override the request's count
 * and shape, and are taken out of the prompt Imagen sees.
 */
export function readDrawing(text: string, defaults: Omit<Drawing, 'prompt'>): Drawing {
  let { count, aspectRatio } = defaults
  const prompt = text
    .replace(/\s*\{\s*n\s*:\s*([^}]*)\}/gi, (_, value: string) => {
      const asked = Number(value.trim())
      if (!isCount(asked)) throw badRequest(`{n:${value.trim()}} in the prompt must ask for 1 to ${MAX_IMAGES} images.`, 'prompt')
      count = asked
      return ''
    })
    .replace(/\s*\{\s*ratio\s*:\s*([^}]*)\}/gi, (_, value: string) => {
      const ratio = value.replace(/\s/g, '')
      if (!isAspectRatio(ratio)) throw badRequest(`{ratio:${value.trim()}} in the prompt must be one of ${RATIO_NAMES}.`, 'prompt')
      aspectRatio = ratio
      return ''
    })
    .trim()
  if (prompt === '') throw badRequest('The prompt has nothing to draw besides its {n:} / {ratio:} directives.', 'prompt')
  return { prompt, count, aspectRatio }
}

const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_IMAGES
const isAspectRatio = (value: string): value is AspectRatio => Object.hasOwn(ASPECT_RATIOS, value)

/**
 * OpenAI's size as an Imagen aspect ratio: `W:H` when it is one of Imagen's, or a pixel size `WxH` (1024x1024,
 * 1792x1024, 1024x1792, 1536x1024, ...) drawn at the nearest of them, when one is near enough.
 */
export function sizeRatio(size: unknown): AspectRatio {
  const text = typeof size === 'string' ? size.trim().toLowerCase() : ''
  if (isAspectRatio(text)) return text
  const pixels = /^(\d{1,5})x(\d{1,5})$/.exec(text)
  const width = Number(pixels?.[1])
  const height = Number(pixels?.[2])
  if (width > 0 && height > 0) {
    const distance = (ratio: number) => Math.abs(Math.log(width / height / ratio))
    const nearest = (Object.keys(ASPECT_RATIOS) as AspectRatio[]).reduce((best, name) =>
      distance(ASPECT_RATIOS[name]) < distance(ASPECT_RATIOS[best]) ? name : best,
    )
    if (distance(ASPECT_RATIOS[nearest]) <= Math.log(SIZE_TOLERANCE)) return nearest
  }
  const shown = typeof size === 'string' ? JSON.stringify(size.slice(0, 20)) : 'of that type'
  throw badRequest(`size ${shown} is not supported: Imagen draws ${RATIO_NAMES} (e.g. 1024x1024, 1792x1024, 1024x1792, or the ratio itself).`, 'size')
}
