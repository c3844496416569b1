import { Mp3Encoder } from '@breezystack/lamejs'
import OpenAI, { APIError } from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { GoogleGenAI } from '@google/genai'
import { KEYS, TOKEN, startGateway, type Running } from '../../test/e2e/harness.ts'
import { SPEECH_MIME_TYPE, SPEECH_PCM } from '../../test/fake-upstream/audio.ts'
import { BUNDLED_PLUGINS } from '../index.ts'
import { GEMINI_VOICES, OPENAI_VOICES } from './internal/voices.ts'
import speech from './index.ts'

const TTS_MODEL = 'gemini-2.5-flash-preview-tts'

/** The chunks of a RIFF/WAVE file, checked for consistent sizes on the way. */
function readWav(bytes: Buffer) {
  expect(bytes.toString('ascii', 0, 4)).toBe('RIFF')
  expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8)
  expect(bytes.toString('ascii', 8, 12)).toBe('WAVE')
  const chunks = new Map<string, Buffer>()
  for (let at = 12; at < bytes.length;) {
    const size = bytes.readUInt32LE(at + 4)
    chunks.set(bytes.toString('ascii', at, at + 4), bytes.subarray(at + 8, at + 8 + size))
    at += 8 + size + (size % 2)
  }
  const fmt = chunks.get('fmt ')!
  return {
    format: fmt.readUInt16LE(0),
    channels: fmt.readUInt16LE(2),
    sampleRate: fmt.readUInt32LE(4),
    byteRate: fmt.readUInt32LE(8),
    blockAlign: fmt.readUInt16LE(12),
    bitsPerSample: fmt.readUInt16LE(14),
    data: chunks.get('data')!,
  }
}

/** MPEG-2 Layer III frame headers, walked from the first byte to the last (a stray byte breaks the walk). */
function readMp3Frames(bytes: Buffer) {
  const KBPS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
  const RATES = [22_050, 24_000, 16_000]
  const frames = []
  for (let at = 0; at < bytes.length;) {
    expect(bytes[at]).toBe(0xff)
    const [b1, b2, b3] = [bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!]
    const frame = { mpeg2: ((b1 >> 3) & 3) === 2, layer3: ((b1 >> 1) & 3) === 1, kbps: KBPS[b2 >> 4]!, sampleRate: RATES[(b2 >> 2) & 3]!, mono: b3 >> 6 === 3 }
    frames.push(frame)
    at += Math.floor((72 * frame.kbps * 1000) / frame.sampleRate) + ((b2 >> 1) & 1)
  }
  return frames
}

describe('speech: OpenAI /v1/audio/speech on Gemini TTS', () => {
  let gw: Running
  let client: OpenAI

  beforeAll(async () => {
    gw = await startGateway({ config: { plugins: [speech()] } })
    client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  const sent = () => gw.upstream.requests.at(-1)!
  const sentBody = () => JSON.parse(sent().body)
  const voiceSent = () => sentBody().generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName
  const promptSent = () => sentBody().contents[0].parts[0].text
  const speak = (body: Record<string, unknown>, path = '/v1/audio/speech', token = TOKEN) =>
    fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) })
  const refusal = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(APIError)
    return error as APIError & { error: { message: string; type: string; param: string | null } }
  }

  it("wav: a RIFF file of Gemini's PCM, 1 channel, 24 kHz, 16 bit; Google got one generateContent on the TTS model", async () => {
    const input = '  Hello there, world.\nSecond line: "quoted" & <tagged>  '
    const response = await client.audio.speech.create({ model: 'tts-1', input, voice: 'alloy', response_format: 'wav' })
    expect(response.headers.get('content-type')).toBe('audio/wav')
    const wav = readWav(Buffer.from(await response.arrayBuffer()))
    expect(wav).toMatchObject({ format: 1, channels: 1, sampleRate: 24_000, byteRate: 48_000, blockAlign: 2, bitsPerSample: 16 })
    expect(wav.data.length).toBe(SPEECH_PCM.length)
    expect(wav.data.equals(SPEECH_PCM)).toBe(true)

    expect(gw.upstream.requests).toHaveLength(1)
    expect(sent()).toMatchObject({ model: TTS_MODEL, action: 'generateContent' })
    expect(KEYS).toContain(sent().key)
    // The input exactly, nothing added at normal speed; no safety settings, tools or other fields.
    expect(sentBody()).toEqual({
      contents: [{ role: 'user', parts: [{ text: input }] }],
      generationConfig: { responseModalities: ['AUDIO'], speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Schedar' } } } },
    })
  })

  it('pcm: the raw bytes Gemini sent, the rate in the content type', async () => {
    const response = await client.audio.speech.create({ model: 'tts-1', input: 'raw', voice: 'nova', response_format: 'pcm' })
    expect(response.headers.get('content-type')).toBe('audio/pcm;rate=24000;channels=1')
    expect(Buffer.from(await response.arrayBuffer()).equals(SPEECH_PCM)).toBe(true)
  })

  it('mp3 by default, as OpenAI: MPEG-2 Layer III frames, 24 kHz mono, encoding exactly the PCM Gemini sent', async () => {
    const response = await client.audio.speech.create({ model: 'gpt-4o-mini-tts', input: 'an mp3 please', voice: 'coral' })
    expect(response.headers.get('content-type')).toBe('audio/mpeg')
    const mp3 = Buffer.from(await response.arrayBuffer())
    const frames = readMp3Frames(mp3)
    expect(frames.every((f) => f.mpeg2 && f.layer3 && f.sampleRate === 24_000 && f.mono && f.kbps === 64)).toBe(true)
    expect(frames.length * 576).toBeGreaterThanOrEqual(SPEECH_PCM.length / 2) // 576 samples per MPEG-2 frame
    const encoder = new Mp3Encoder(1, 24_000, 64)
    const samples = new Int16Array(SPEECH_PCM.buffer, SPEECH_PCM.byteOffset, SPEECH_PCM.length / 2)
    const expected = [encoder.encodeBuffer(samples), encoder.flush()].map((chunk) => Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    expect(mp3.equals(Buffer.concat(expected))).toBe(true)
  })

  it('every OpenAI voice maps to a Gemini voice; Gemini voices are taken in any case; no voice means TTS_VOICE_NAME', async () => {
    for (const [openai, gemini] of Object.entries(OPENAI_VOICES)) {
      expect((await speak({ input: 'x', voice: openai, response_format: 'pcm' })).status).toBe(200)
      expect(voiceSent()).toBe(gemini)
    }
    expect(new Set(Object.values(OPENAI_VOICES)).size).toBe(Object.keys(OPENAI_VOICES).length)
    for (const [given, expected] of [
      ['kore', 'Kore'],
      ['ZUBENELGENUBI', 'Zubenelgenubi'],
      [' Puck ', 'Puck'],
    ]) {
      expect((await speak({ input: 'x', voice: given, response_format: 'pcm' })).status).toBe(200)
      expect(voiceSent()).toBe(expected)
    }
    expect((await speak({ input: 'x', response_format: 'pcm' })).status).toBe(200)
    expect(voiceSent()).toBe('Zephyr')
  })

  it("an unknown voice is a 400 in OpenAI's shape listing the accepted names, and Google is not asked", async () => {
    const error = await refusal(client.audio.speech.create({ model: 'tts-1', input: 'x', voice: 'robot' }))
    expect(error.status).toBe(400)
    expect(error.error).toMatchObject({ type: 'invalid_request_error', param: 'voice' })
    for (const name of [...Object.keys(OPENAI_VOICES), ...GEMINI_VOICES]) expect(error.error.message).toContain(name)
    expect((await refusal(client.audio.speech.create({ model: 'tts-1', input: 'x', voice: { id: 'voice_1234' } }))).status).toBe(400)
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it("formats Gemini's PCM cannot become here are a 400 naming the supported ones", async () => {
    for (const format of ['opus', 'aac', 'flac', 'ogg'] as const) {
      const error = await refusal(client.audio.speech.create({ model: 'tts-1', input: 'x', voice: 'alloy', response_format: format as 'opus' }))
      expect(error.status).toBe(400)
      expect(error.error.param).toBe('response_format')
      expect(error.error.message).toContain(`"${format}"`)
      expect(error.error.message).toContain('mp3, wav, pcm')
    }
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it('speed and instructions become a short style instruction before the exact input', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ speed: 0.5 }, 'Speak in a very slow speed voice: Read me.'],
      [{ speed: 0.75 }, 'Speak in a slow speed voice: Read me.'],
      [{ speed: 1.1 }, 'Read me.'],
      [{ speed: 1.5 }, 'Speak in a fast speed voice: Read me.'],
      [{ speed: 4 }, 'Speak in a very fast speed voice: Read me.'],
      [{ instructions: 'Say it cheerfully.' }, 'Say it cheerfully: Read me.'],
      [{ instructions: 'Whisper', speed: 0.7 }, 'Whisper. Speak in a slow speed voice: Read me.'],
    ]
    for (const [extra, prompt] of cases) {
      expect((await speak({ model: 'tts-1', input: 'Read me.', voice: 'ash', response_format: 'wav', ...extra })).status).toBe(200)
      expect(promptSent()).toBe(prompt)
    }
    for (const speed of [0.1, 5, '1']) {
      const res = await speak({ input: 'x', voice: 'ash', speed })
      expect(res.status).toBe(400)
      expect((await res.json()).error.param).toBe('speed')
    }
  })

  it('checks the rest of the body: input required, SSE streaming refused', async () => {
    for (const [body, param] of [
      [{ voice: 'ash' }, 'input'],
      [{ input: '   ', voice: 'ash' }, 'input'],
      [{ input: 'x', stream_format: 'sse' }, 'stream_format'],
      [{ input: 'x', model: 7 }, 'model'],
    ] as const) {
      const res = await speak(body)
      expect(res.status).toBe(400)
      expect((await res.json()).error.param).toBe(param)
    }
    expect((await speak({ input: 'x', stream_format: 'audio', response_format: 'pcm' })).status).toBe(200)
  })

  it('a Gemini model named by the client is used; OpenAI model names mean TTS_MODEL; filtered models stay refused', async () => {
    await speak({ model: 'models/gemini-2.5-flash-preview-tts', input: 'x', response_format: 'pcm' })
    expect(sent().model).toBe(TTS_MODEL)
    await speak({ model: 'tts-1-hd', input: 'x', response_format: 'pcm' })
    expect(sent().model).toBe(TTS_MODEL)
    const filtered = await speak({ model: 'gemini-pro-vision', input: 'x' })
    expect(filtered.status).toBe(404)
    expect(gw.upstream.requests).toHaveLength(2)
  })

  it('a missing or wrong token is a 401 before the body is read; /hf/v1 serves the route too', async () => {
    // A body that never ends: only an answer given before reading it can arrive.
    const never = new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode('{"input":')) })
    const anonymous = await fetch(`${gw.url}/v1/audio/speech`, { method: 'POST', body: never, duplex: 'half' } as RequestInit)
    expect(anonymous.status).toBe(401)
    expect((await anonymous.json()).error.type).toBe('invalid_request_error')
    const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${gw.url}/v1`, maxRetries: 0 })
    expect((await refusal(wrong.audio.speech.create({ model: 'tts-1', input: 'x', voice: 'alloy' }))).status).toBe(401)
    expect(gw.upstream.requests).toHaveLength(0)

    const hf = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/hf/v1`, maxRetries: 0 })
    const response = await hf.audio.speech.create({ model: 'tts-1', input: 'x', voice: 'alloy', response_format: 'pcm' })
    expect(Buffer.from(await response.arrayBuffer()).equals(SPEECH_PCM)).toBe(true)
  })

  it('runs through the pipeline: a rate-limited key is left for another one', async () => {
    // The key just used comes last in the rotation; every other key answers 429 once.
    await speak({ input: 'x', response_format: 'pcm' })
    const last = gw.keysUsed()[0]!
    gw.reset()
    for (const key of KEYS.filter((k) => k !== last)) gw.upstream.setBehaviour(key, 'rate-minute', { times: 1 })
    const response = await client.audio.speech.create({ model: 'tts-1', input: 'x', voice: 'alloy', response_format: 'pcm' })
    expect(Buffer.from(await response.arrayBuffer()).equals(SPEECH_PCM)).toBe(true)
    const used = gw.keysUsed()
    expect(used.length).toBeGreaterThan(1)
    expect(new Set(used).size).toBe(used.length)
    expect(used.at(-1)).toBe(last)
  })

  it('an answer without audio is a 502 saying so (after every key had its try); a blocked input is a 400', async () => {
    for (const key of KEYS) gw.upstream.setBehaviour(key, 'empty')
    const empty = await refusal(client.audio.speech.create({ model: 'tts-1', input: 'x', voice: 'alloy', response_format: 'wav' }))
    expect(empty.status).toBe(502)
    expect(empty.error.message).toBe('Gemini answered without audio (finishReason STOP).')
    expect(gw.upstream.requests).toHaveLength(KEYS.length)

    gw.reset()
    const text = { candidates: [{ content: { parts: [{ text: 'I cannot speak.' }], role: 'model' }, finishReason: 'STOP', index: 0 }] }
    for (const key of KEYS) gw.upstream.script(key, { json: text })
    expect((await refusal(client.audio.speech.create({ model: 'tts-1', input: 'x', voice: 'alloy' }))).status).toBe(502)

    gw.reset()
    const mp3 = {
      candidates: [{ content: { parts: [{ inlineData: { mimeType: 'audio/mpeg', data: 'AAAA' } }], role: 'model' }, finishReason: 'STOP', index: 0 }],
    }
    for (const key of KEYS) gw.upstream.script(key, { json: mp3 })
    const unknown = await refusal(client.audio.speech.create({ model: 'tts-1', input: 'x', voice: 'alloy' }))
    expect(unknown.status).toBe(502)
    expect(unknown.error.message).toContain('audio/mpeg')

    gw.reset()
    for (const key of KEYS) gw.upstream.setBehaviour(key, 'blocked')
    const blocked = await refusal(client.audio.speech.create({ model: 'tts-1', input: 'x', voice: 'alloy' }))
    expect(blocked.status).toBe(400)
    expect(blocked.error).toMatchObject({ param: 'input', message: 'Gemini refused to speak this input (blockReason SAFETY).' })
  })

  it('reads the rate and channels from the mime type, and keeps whole frames only', async () => {
    const stereo = Buffer.from([1, 0, 2, 0, 3, 0, 4, 0, 5])
    const answer = {
      candidates: [
        {
          content: { parts: [{ inlineData: { mimeType: 'audio/l16; rate=16000; channels=2', data: stereo.toString('base64') } }], role: 'model' },
          finishReason: 'STOP',
          index: 0,
        },
      ],
    }
    for (const key of KEYS) gw.upstream.script(key, { json: answer })
    const wav = readWav(
      Buffer.from(await (await client.audio.speech.create({ model: 'tts-1', input: 'x', voice: 'alloy', response_format: 'wav' })).arrayBuffer()),
    )
    expect(wav).toMatchObject({ channels: 2, sampleRate: 16_000, byteRate: 64_000, blockAlign: 4, bitsPerSample: 16 })
    expect([...wav.data]).toEqual([1, 0, 2, 0, 3, 0, 4, 0])
  })
})

describe('speech: gemini-balance variables', () => {
  it('TTS_MODEL, TTS_VOICE_NAME and TTS_SPEED (any case) are the defaults of a request that names none', async () => {
    const gw = await startGateway({
      env: { TTS_MODEL: 'gemini-2.5-pro-preview-tts', TTS_VOICE_NAME: 'puck', TTS_SPEED: 'SLOW' },
      config: { plugins: [speech()] },
    })
    try {
      const res = await fetch(`${gw.url}/v1/audio/speech`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ model: 'tts-1', input: 'Slowly.' }),
      })
      // The fake has no such model: Google's 404 reaches the client in OpenAI's shape.
      expect(res.status).toBe(404)
      expect((await res.json()).error.code).toBe('model_not_found')
      const body = JSON.parse(gw.upstream.requests[0]!.body)
      expect(gw.upstream.requests[0]!.model).toBe('gemini-2.5-pro-preview-tts')
      expect(body.contents[0].parts[0].text).toBe('Speak in a slow speed voice: Slowly.')
      expect(body.generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName).toBe('Puck')
    } finally {
      await gw.close()
    }
  })

  it.each([
    [{ TTS_VOICE_NAME: 'Nobody' }, /TTS_VOICE_NAME \(option voice\): must be one of alloy/],
    [{ TTS_SPEED: 'warp' }, /TTS_SPEED \(option speed\): must be slow, normal or fast/],
  ])('a bad value stops the start: %o', async (env, message) => {
    await expect(startGateway({ env, config: { plugins: [speech()] } })).rejects.toThrow(message)
  })
})

describe('speech: native Gemini TTS passes through untouched', () => {
  let gw: Running
  let genai: GoogleGenAI
  const clientBodies: string[] = []

  beforeAll(async () => {
    // Every bundled plugin, with gemini-balance's feature switches on: none of them may edit a TTS request.
    const bundled = BUNDLED_PLUGINS.map((plugin) => plugin.definition.name)
    const plugins = [...BUNDLED_PLUGINS.map((plugin) => plugin()), ...(bundled.includes('speech') ? [] : [speech()])]
    gw = await startGateway({
      env: { TOOLS_CODE_EXECUTION_ENABLED: 'true', URL_CONTEXT_ENABLED: 'true', SHOW_THINKING_PROCESS: 'true', STREAM_OPTIMIZER_ENABLED: 'true' },
      config: { plugins },
    })
    // What the SDK put on the wire, to compare with what Google got.
    const recording: typeof fetch = async (input, init) => {
      if (typeof init?.body === 'string') clientBodies.push(init.body)
      return fetch(input, init)
    }
    genai = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: gw.url, fetch: recording } })
  })
  afterAll(() => gw.close())
  beforeEach(() => {
    gw.reset()
    clientBodies.length = 0
  })

  const single = { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } }
  const multi = {
    multiSpeakerVoiceConfig: {
      speakerVoiceConfigs: [
        { speaker: 'Joe', voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } },
        { speaker: 'Jane', voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } } },
      ],
    },
  }

  it.each([
    ['single speaker', single, 'Say cheerfully: Have a wonderful day!'],
    ['two speakers', multi, 'TTS the following conversation between Joe and Jane:\nJoe: Hi Jane.\nJane: Hi Joe!'],
  ])("%s: Google gets the client's body byte for byte, the client Google's audio", async (_name, speechConfig, text) => {
    const answer = await genai.models.generateContent({ model: TTS_MODEL, contents: text, config: { responseModalities: ['AUDIO'], speechConfig } })
    expect(gw.upstream.requests).toHaveLength(1)
    expect(lastSent(gw)).toMatchObject({ model: TTS_MODEL, action: 'generateContent' })
    expect(clientBodies).toHaveLength(1)
    expect(lastSent(gw).body).toBe(clientBodies[0])
    expect(JSON.parse(lastSent(gw).body)).toEqual({
      contents: [{ parts: [{ text }], role: 'user' }],
      generationConfig: { responseModalities: ['AUDIO'], speechConfig },
    })
    const part = answer.candidates![0]!.content!.parts![0]!
    expect(part.inlineData).toEqual({ mimeType: SPEECH_MIME_TYPE, data: SPEECH_PCM.toString('base64') })
  })

  it('streamed: the same, with the audio in one chunk', async () => {
    const parts = []
    for await (const chunk of await genai.models.generateContentStream({
      model: TTS_MODEL,
      contents: 'Stream it.',
      config: { responseModalities: ['AUDIO'], speechConfig: single },
    })) {
      parts.push(...(chunk.candidates?.[0]?.content?.parts ?? []))
    }
    expect(lastSent(gw)).toMatchObject({ model: TTS_MODEL, action: 'streamGenerateContent' })
    expect(lastSent(gw).body).toBe(clientBodies[0])
    expect(parts.map((part) => part.inlineData?.data)).toEqual([SPEECH_PCM.toString('base64')])
  })
})

const lastSent = (gw: Running) => gw.upstream.requests.at(-1)!
