import * as v from 'valibot'
import { definePlugin, GatewayError, openaiDialect, type GeminiResponse } from 'gemgate'
import { speechOf, toWav } from './internal/audio.ts'
import { mp3Stream } from './internal/mp3.ts'
import { readSpeechRequest, type AudioFormat } from './internal/request.ts'
import { ACCEPTED_VOICES, geminiVoice } from './internal/voices.ts'

const CONTENT_TYPES: Record<AudioFormat, (rate: number, channels: number) => string> = {
  mp3: () => 'audio/mpeg',
  wav: () => 'audio/wav',
  pcm: (rate, channels) => `audio/pcm;rate=${rate};channels=${channels}`,
}

/**
 * OpenAI's text-to-speech API on Gemini's TTS models: `POST /v1/audio/speech` (and /hf/v1) runs generateContent on
 * the TTS model through the pipeline (auth, key choice, retries, logs) and answers the speech as mp3, wav or raw PCM.
 * Native TTS calls (`/v1beta/models/<tts model>:generateContent`, one voice or two speakers) need nothing from this
 * plugin: they go to Google as the client sent them.
 */
export default definePlugin({
  name: 'speech',
  summary: 'OpenAI text-to-speech (`/v1/audio/speech`) on Gemini TTS: OpenAI and Gemini voice names, mp3, wav or pcm.',
  options: v.strictObject({
    model: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a plain model id')), 'gemini-2.5-flash-preview-tts'),
    voice: v.optional(
      v.pipe(
        v.string(),
        v.check((name) => geminiVoice(name) !== undefined, `must be one of ${ACCEPTED_VOICES}`),
      ),
      'Zephyr',
    ),
    speed: v.optional(
      v.pipe(v.string(), v.trim(), v.toLowerCase(), v.picklist(['slow', 'normal', 'fast'], 'must be slow, normal or fast (any case)')),
      'normal',
    ),
  }),
  env: {
    model: { env: 'TTS_MODEL', kind: 'string' },
    voice: { env: 'TTS_VOICE_NAME', kind: 'string' },
    speed: { env: 'TTS_SPEED', kind: 'string' },
  },
  docs: {
    model: 'the Gemini TTS model; a client that names a `gemini-` model gets that one instead',
    voice: 'the voice when the client names none (a Gemini voice, or an OpenAI one such as `alloy`)',
    speed: 'the pace when the client sends no `speed`: `slow` or `fast` asks for it before the text, `normal` sends the text alone',
  },

  setup(options, ctx) {
    const defaults = { voice: geminiVoice(options.voice)!, pace: options.speed }
    return {
      routes(router) {
        router.add('POST', '/v1/audio/speech', openaiDialect, async (call) => {
          const speech = readSpeechRequest(await call.json(), defaults)
          const model = call.model(speech.geminiModel ?? options.model, 'model')
          const body = {
            contents: [{ role: 'user', parts: [{ text: speech.prompt }] }],
            generationConfig: {
              responseModalities: ['AUDIO'],
              speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: speech.voice } } },
            },
          }
          const outcome = await ctx.run(call, { operation: 'generateContent', model, stream: false, body })
          if (outcome.kind !== 'json') throw new GatewayError(502, 'Gemini answered a stream to a unary call.')
          const answer = outcome.body.tryData() as GeminiResponse | undefined
          if (!answer || typeof answer !== 'object') throw new GatewayError(502, 'Gemini sent an answer that is not JSON.')
          const pcm = speechOf(answer)
          const headers = { 'content-type': CONTENT_TYPES[speech.format](pcm.sampleRate, pcm.channels) }
          if (speech.format === 'mp3') return new Response(mp3Stream(pcm), { headers })
          return new Response(speech.format === 'wav' ? toWav(pcm) : pcm.bytes, { headers })
        })
      },
    }
  },
})
