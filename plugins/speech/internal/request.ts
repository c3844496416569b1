import { badRequest } from 'gemgate'
import { ACCEPTED_VOICES, geminiVoice } from './voices.ts'

export type Pace = 'very slow' | 'slow' | 'normal' | 'fast' | 'very fast'
export type AudioFormat = 'mp3' | 'wav' | 'pcm'

export const FORMATS: readonly AudioFormat[] = ['mp3', 'wav', 'pcm']

/** An OpenAI `POST /v1/audio/speech` body, checked, with the operator's defaults filled in. */
export interface SpeechRequest {
  /** A Gemini model the client named; OpenAI's names (tts-1, gpt-4o-mini-tts) leave the choice to TTS_MODEL. */
  geminiModel?: string
  voice: string
  format: AudioFormat
  /** What Gemini is asked to say: the input, exactly, behind a short style instruction when there is one. */
  prompt: string
}

export interface SpeechDefaults {
  voice: string
  pace: Pace
}

/** Fields as OpenAI documents them; anything else in the body is ignored, as OpenAI's SDKs may add fields. */
export function readSpeechRequest(body: Record<string, unknown>, defaults: SpeechDefaults): SpeechRequest {
  // null counts as absent, as in OpenAI's API.
  const field = (name: string) => body[name] ?? undefined
  const [model, input, voice, format, speed, instructions, streamFormat] = [
    'model',
    'input',
    'voice',
    'response_format',
    'speed',
    'instructions',
    'stream_format',
  ].map(field)
  if (typeof input !== 'string' || input.trim() === '') throw badRequest('input must be the text to speak.', 'input')
  if (model !== undefined && typeof model !== 'string') throw badRequest('model must be a string.', 'model')
  if (instructions !== undefined && typeof instructions !== 'string') throw badRequest('instructions must be a string.', 'instructions')
  if (streamFormat !== undefined && streamFormat !== 'audio')
    throw badRequest('stream_format must be "audio": this gateway sends the audio itself, not SSE events.', 'stream_format')
  return {
    geminiModel: typeof model === 'string' && /^(models\/)?gemini-/i.test(model) ? model : undefined,
    voice: voice === undefined ? defaults.voice : voiceOf(voice),
    format: format === undefined ? 'mp3' : formatOf(format),
    prompt: promptFor(input, instructions, speed === undefined ? defaults.pace : paceOf(speed)),
  }
}

function voiceOf(voice: unknown): string {
  const found = typeof voice === 'string' ? geminiVoice(voice) : undefined
  if (!found) throw badRequest(`voice ${JSON.stringify(voice).slice(0, 40)} is not available; use ${ACCEPTED_VOICES}.`, 'voice')
  return found
}

function formatOf(format: unknown): AudioFormat {
  if (typeof format === 'string' && (FORMATS as readonly string[]).includes(format)) return format as AudioFormat
  const shown = typeof format === 'string' ? JSON.stringify(format.slice(0, 20)) : 'of that type'
  throw badRequest(`response_format ${shown} is not supported; this gateway answers ${FORMATS.join(', ')}.`, 'response_format')
}

/** OpenAI's speed (0.25-4, 1 = normal) in the words Gemini takes a pace in. */
function paceOf(speed: unknown): Pace {
  if (typeof speed !== 'number' || !(speed >= 0.25 && speed <= 4)) throw badRequest('speed must be a number from 0.25 to 4.0.', 'speed')
  if (speed <= 0.5) return 'very slow'
  if (speed < 0.85) return 'slow'
  if (speed <= 1.15) return 'normal'
  if (speed < 2) return 'fast'
  return 'very fast'
}

/**
 * Gemini's TTS models take style as words before the text ("Say cheerfully: ..."); gemini-balance wrote the pace as
 * "Speak in a slow speed voice: ...". The input follows unchanged; with nothing to say about style it goes alone.
 */
export function promptFor(input: string, instructions: string | undefined, pace: Pace): string {
  const style = [instructions?.trim().replace(/[\s.:;!]+$/, ''), pace === 'normal' ? '' : `Speak in a ${pace} speed voice`].filter(Boolean)
  return style.length > 0 ? `${style.join('. ')}: ${input}` : input
}
