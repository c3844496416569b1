import { GoogleGenAI } from '@google/genai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeUpstream, type FakeUpstream } from '../fake-upstream/index.ts'

const [KEY_A, KEY_B] = ['AIzaSy-fake-resources-key-a-00000001', 'AIzaSy-fake-resources-key-b-00000002']

/** The fake's resources through the official SDK, straight to the fake: owned per key as Google owns them per project. */
describe('fake upstream resources', () => {
  let upstream: FakeUpstream
  const sdk = (key: string) => new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: upstream.origin } })
  beforeAll(async () => {
    upstream = await startFakeUpstream()
  })
  afterAll(() => upstream.close())

  it('uploads a file resumably in chunks, and only its key can read, list, use or delete it', async () => {
    const bytes = new Uint8Array(9 * 1024 * 1024).fill(7)
    const file = await sdk(KEY_A).files.upload({ file: new Blob([bytes], { type: 'application/pdf' }), config: { displayName: 'doc' } })
    expect(file).toMatchObject({ displayName: 'doc', mimeType: 'application/pdf', sizeBytes: String(bytes.length), state: 'ACTIVE' })
    expect(upstream.resources.owner(file.name!)).toBe(KEY_A)
    expect(upstream.resources.uploads.slice(-2).map((trace) => trace.bytes)).toEqual([8 * 1024 * 1024, 1024 * 1024])
    expect((await sdk(KEY_A).files.get({ name: file.name! })).uri).toBe(file.uri)
    await expect(sdk(KEY_B).files.get({ name: file.name! })).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining('You do not have permission to access the File'),
    })
    const part = { fileData: { fileUri: file.uri!, mimeType: 'application/pdf' } }
    const answer = await sdk(KEY_A).models.generateContent({ model: 'gemini-2.5-flash', contents: [{ role: 'user', parts: [part, { text: 'sum up' }] }] })
    expect(answer.text).toBe('Echo: sum up')
    await expect(
      sdk(KEY_B).models.generateContent({ model: 'gemini-2.5-flash', contents: [{ role: 'user', parts: [part, { text: 'x' }] }] }),
    ).rejects.toMatchObject({ status: 403 })
    const listed: string[] = []
    for await (const each of await sdk(KEY_B).files.list()) listed.push(each.name!)
    expect(listed).not.toContain(file.name)
    await sdk(KEY_A).files.delete({ name: file.name! })
    await expect(sdk(KEY_A).files.get({ name: file.name! })).rejects.toMatchObject({ status: 403 })
  })

  it('caches, batches and video operations belong to their key and finish after a poll or two', async () => {
    const cache = await sdk(KEY_A).caches.create({
      model: 'gemini-2.5-flash',
      config: { contents: [{ role: 'user', parts: [{ text: 'long context' }] }], ttl: '600s' },
    })
    expect(cache.name).toMatch(/^cachedContents\//)
    const answer = await sdk(KEY_A).models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi', config: { cachedContent: cache.name! } })
    expect(answer.text).toBe('Echo: hi')
    await expect(
      sdk(KEY_B).models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi', config: { cachedContent: cache.name! } }),
    ).rejects.toMatchObject({ status: 403 })

    const batch = await sdk(KEY_A).batches.create({ model: 'gemini-2.5-flash', src: [{ contents: [{ role: 'user', parts: [{ text: 'one' }] }] }] })
    expect(batch.state).toBe('JOB_STATE_PENDING')
    expect((await sdk(KEY_A).batches.get({ name: batch.name! })).state).toBe('JOB_STATE_RUNNING')
    const done = await sdk(KEY_A).batches.get({ name: batch.name! })
    expect(done.state).toBe('JOB_STATE_SUCCEEDED')
    expect(done.dest?.inlinedResponses?.[0]?.response?.candidates?.[0]?.content?.parts?.[0]?.text).toBe('Echo: one')
    await expect(sdk(KEY_B).batches.get({ name: batch.name! })).rejects.toMatchObject({ status: 403 })

    let operation = await sdk(KEY_A).models.generateVideos({ model: 'veo-3.0-generate-001', source: { prompt: 'a cat' } })
    while (!operation.done) operation = await sdk(KEY_A).operations.getVideosOperation({ operation })
    const uri = operation.response?.generatedVideos?.[0]?.video?.uri
    expect(uri).toMatch(/\/files\/[a-z0-9]+:download\?alt=media$/)
  })
})
