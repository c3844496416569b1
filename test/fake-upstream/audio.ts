// Speech answers (§1.7): a request whose generationConfig.responseModalities asks for AUDIO gets raw 16-bit
// little-endian mono PCM at 24 kHz in one inlineData part, as Gemini's TTS models answer (a stream sends it in one chunk).

import type { Json } from './responses.ts'
import { isObject, newResponseId, promptWords } from './responses.ts'

export const SPEECH_RATE = 24_000
export const SPEECH_MIME_TYPE = `audio/L16;codec=pcm;rate=${SPEECH_RATE}`

/** 50 ms of a 440 Hz sine: real audio a player can play, small enough to compare byte for byte. */
export const SPEECH_PCM: Buffer = sinePcm(440, 50)

function sinePcm(hertz: number, ms: number): Buffer {
  const samples = Math.round((SPEECH_RATE * ms) / 1000)
  const pcm = Buffer.alloc(samples * 2)
  for (let i = 0; i < samples; i++) pcm.writeInt16LE(Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * hertz * i) / SPEECH_RATE)), i * 2)
  return pcm
}

/** True when the request asks for spoken output (either spelling Google's parser takes). */
export function wantsAudio(request: Json): boolean {
  const config = request.generationConfig ?? request.generation_config
  const modalities = isObject(config) ? (config.responseModalities ?? config.response_modalities) : undefined
  return Array.isArray(modalities) && modalities.some((m) => typeof m === 'string' && m.toUpperCase() === 'AUDIO')
}

/** The unary answer, which is also the stream's single chunk. */
export function speechAnswer(model: string, request: Json): Json {
  const promptTokens = promptWords(request)
  // Gemini bills 25 audio tokens per second of speech.
  const audioTokens = Math.max(1, Math.round((SPEECH_PCM.length / 2 / SPEECH_RATE) * 25))
  // Zero counts are omitted, as proto3 JSON does; the field order is the wire sample's.
  const usageMetadata: Json = {}
  if (promptTokens) usageMetadata.promptTokenCount = promptTokens
  usageMetadata.candidatesTokenCount = audioTokens
  usageMetadata.totalTokenCount = promptTokens + audioTokens
  if (promptTokens) usageMetadata.promptTokensDetails = [{ modality: 'TEXT', tokenCount: promptTokens }]
  usageMetadata.candidatesTokensDetails = [{ modality: 'AUDIO', tokenCount: audioTokens }]
  return {
    candidates: [
      {
        content: { parts: [{ inlineData: { mimeType: SPEECH_MIME_TYPE, data: SPEECH_PCM.toString('base64') } }], role: 'model' },
        finishReason: 'STOP',
        index: 0,
      },
    ],
    usageMetadata,
    modelVersion: model,
    responseId: newResponseId(),
  }
}
