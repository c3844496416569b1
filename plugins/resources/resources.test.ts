import Anthropic from '@anthropic-ai/sdk'
import { ApiError, type File as GeminiFile } from '@google/genai'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KEYS, TOKEN, startGateway, type Running } from '../../test/e2e/harness.ts'
import urlNormalization from '../url-normalization/index.ts'
import resources from './index.ts'

const OTHER_TOKEN = 'sk-gemgate-test-other-client'
const MODEL = 'gemini-2.5-flash'
const pdf = (text: string) => new Blob([`%PDF-1.4 ${text}`], { type: 'application/pdf' })

/**
 * Files, caches, batches and operations through the official SDKs against the fake upstream, which owns each resource
 * per key as Google owns it per project: every later call that names one must reach the key that made it.
 */
describe('resources bound to the key that made them', () => {
  let gw: Running
  beforeAll(async () => {
    // With URL normalization on, as a gemini-balance .env may have it: it must leave every resource route alone.
    gw = await startGateway({
      env: { ALLOWED_TOKENS: JSON.stringify([TOKEN, OTHER_TOKEN]), URL_NORMALIZATION_ENABLED: 'true' },
      config: { plugins: [urlNormalization(), resources()] },
    })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  const ownerOf = (name: string) => gw.upstream.resources.owner(name)
  /** Uploads a file and forgets the upload's requests, so a test sees only what comes after. */
  async function upload(text = 'a document', token = TOKEN): Promise<GeminiFile> {
    const file = await gw.genai(token).files.upload({ file: pdf(text), config: { displayName: text } })
    gw.upstream.requests.length = 0
    return file
  }

  it('files.upload, get, list and delete: the upload picks a key, and every later call goes to that key', async () => {
    const file = await gw.genai().files.upload({ file: pdf('report'), config: { displayName: 'report' } })
    const owner = ownerOf(file.name!)
    expect(owner).toBeDefined()
    // The start went through key choice; the bytes went to the same key's upload URL.
    expect(gw.keysUsed()).toEqual([owner, owner])
    expect(gw.upstream.requests.map((r) => r.path)).toEqual(['/upload/v1beta/files', '/upload/v1beta/files'])
    gw.upstream.requests.length = 0

    for (let i = 0; i < 3; i++) expect((await gw.genai().files.get({ name: file.name! })).displayName).toBe('report')
    const listed: string[] = []
    for await (const each of await gw.genai().files.list()) listed.push(each.name!)
    expect(listed).toContain(file.name)
    await gw.genai().files.delete({ name: file.name! })
    expect(gw.keysUsed()).toEqual([owner, owner, owner, owner])
    // Forgotten with it: the gateway refuses it without asking any key.
    await expect(gw.genai().files.get({ name: file.name! })).rejects.toMatchObject({ status: 403 })
    expect(gw.upstream.requests).toHaveLength(4)
  })

  it('a file in generateContent goes to its key: natively, through OpenAI file parts and Anthropic documents', async () => {
    const file = await upload('invoice')
    const owner = ownerOf(file.name!)
    const part = { fileData: { fileUri: file.uri!, mimeType: 'application/pdf' } }
    for (let i = 0; i < 3; i++) {
      const answer = await gw.genai().models.generateContent({ model: MODEL, contents: [{ role: 'user', parts: [part, { text: `read it ${i}` }] }] })
      expect(answer.text).toBe(`Echo: read it ${i}`)
    }
    const stream = await gw.genai().models.generateContentStream({ model: MODEL, contents: [{ role: 'user', parts: [part, { text: 'stream it' }] }] })
    let streamed = ''
    for await (const chunk of stream) streamed += chunk.text ?? ''
    expect(streamed).toBe('Echo: stream it')

    const openai = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const completion = await openai.chat.completions.create({
      model: MODEL,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'file', file: { file_id: file.name!, filename: 'invoice.pdf' } },
            { type: 'text', text: 'openai' },
          ],
        },
      ],
    })
    expect(completion.choices[0]!.message.content).toBe('Echo: openai')

    const anthropic = new Anthropic({ apiKey: TOKEN, baseURL: gw.url, maxRetries: 0 })
    const message = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 100,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'document', source: { type: 'file', file_id: file.name! } },
            { type: 'text', text: 'anthropic' },
          ],
        },
      ],
    })
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Echo: anthropic' })
    expect(gw.keysUsed()).toEqual(Array(6).fill(owner))
    expect(JSON.parse(gw.upstream.requests.at(-1)!.body).contents[0].parts[0].fileData.fileUri).toBe(
      `https://generativelanguage.googleapis.com/v1beta/files/${file.name!.slice(6)}`,
    )
  })

  it('caches.create, then generateContent with it, get, update, list and delete: all on the key that made it', async () => {
    const file = await upload('a long book')
    const owner = ownerOf(file.name!)
    const cache = await gw.genai().caches.create({
      model: MODEL,
      config: {
        contents: [{ role: 'user', parts: [{ fileData: { fileUri: file.uri!, mimeType: 'application/pdf' } }, { text: 'the book' }] }],
        ttl: '600s',
        displayName: 'book',
      },
    })
    // A cache of a file can only be made in the file's project: the create itself was sent there.
    expect(ownerOf(cache.name!)).toBe(owner)
    for (let i = 0; i < 3; i++) {
      const answer = await gw.genai().models.generateContent({ model: MODEL, contents: `question ${i}`, config: { cachedContent: cache.name! } })
      expect(answer.text).toBe(`Echo: question ${i}`)
    }
    expect((await gw.genai().caches.get({ name: cache.name! })).displayName).toBe('book')
    const updated = await gw.genai().caches.update({ name: cache.name!, config: { ttl: '1200s' } })
    expect(Date.parse(updated.expireTime!)).toBeGreaterThan(Date.parse(cache.expireTime!))
    const listed: string[] = []
    for await (const each of await gw.genai().caches.list()) listed.push(each.name!)
    expect(listed).toEqual([cache.name])
    await gw.genai().caches.delete({ name: cache.name! })
    expect(gw.keysUsed()).toEqual(Array(7).fill(owner))
  })

  it("batches.create and get: the polls go to the batch's key, and so does the download of a file batch's results", async () => {
    const batch = await gw.genai().batches.create({ model: MODEL, src: [{ contents: [{ role: 'user', parts: [{ text: 'first' }] }] }, { contents: 'second' }] })
    const owner = ownerOf(batch.name!)
    expect(gw.keysUsed()).toEqual([owner])
    let job = batch
    while (job.state !== 'JOB_STATE_SUCCEEDED') job = await gw.genai().batches.get({ name: batch.name! })
    expect(job.dest?.inlinedResponses?.map((answer) => answer.response?.candidates?.[0]?.content?.parts?.[0]?.text)).toEqual(['Echo: first', 'Echo: second'])
    const listed: string[] = []
    for await (const each of await gw.genai().batches.list()) listed.push(each.name!)
    expect(listed).toContain(batch.name)
    expect(gw.keysUsed()).toEqual([owner, owner, owner])

    // A batch of a file: the input file's key runs it, and its results file is bound to that key too.
    const input = await upload('{"key":"1","request":{"contents":[{"parts":[{"text":"hi"}]}]}}')
    const fileBatch = await gw.genai().batches.create({ model: MODEL, src: input.name! })
    expect(ownerOf(fileBatch.name!)).toBe(ownerOf(input.name!))
    let done = fileBatch
    while (done.state !== 'JOB_STATE_SUCCEEDED') done = await gw.genai().batches.get({ name: fileBatch.name! })
    const results = done.dest!.fileName!
    const download = await fetch(`${gw.url}/download/v1beta/files/${results.slice(6)}:download?alt=media`, { headers: { 'x-goog-api-key': TOKEN } })
    expect(download.status).toBe(200)
    expect(JSON.parse(await download.text()).response.candidates[0].content.parts[0].text).toBe('Echo: ')
    expect(gw.keysUsed().at(-1)).toBe(ownerOf(input.name!))
  })

  it('a long-running operation (Veo) is polled on its key, and its video downloads from there', async () => {
    let operation = await gw.genai().models.generateVideos({ model: 'veo-3.0-generate-001', source: { prompt: 'a cat on a piano' } })
    const owner = ownerOf(operation.name!)
    let polls = 0
    while (!operation.done) {
      operation = await gw.genai().operations.getVideosOperation({ operation })
      polls++
    }
    expect(polls).toBe(2)
    const uri = operation.response!.generatedVideos![0]!.video!.uri!
    const id = /files\/([a-z0-9]+):download/.exec(uri)![1]
    const video = await fetch(`${gw.url}/v1beta/files/${id}:download?alt=media`, { headers: { 'x-goog-api-key': TOKEN } })
    expect(await video.text()).toBe('fake mp4 bytes')
    expect(gw.keysUsed()).toEqual([owner, owner, owner, owner])
  })

  it("file search stores: an upload into a store and its documents go to the store's key; an import needs a file of that key", async () => {
    const store = await gw.genai().fileSearchStores.create({ config: { displayName: 'manuals' } })
    const owner = ownerOf(store.name!)
    const uploaded = await gw
      .genai()
      .fileSearchStores.uploadToFileSearchStore({ fileSearchStoreName: store.name!, file: pdf('manual'), config: { mimeType: 'application/pdf' } })
    expect(uploaded.done).toBe(true)
    expect((await gw.genai().fileSearchStores.get({ name: store.name! })).displayName).toBe('manuals')
    const documents: string[] = []
    for await (const each of await gw.genai().fileSearchStores.documents.list({ parent: store.name! })) documents.push(each.name!)
    expect(documents).toHaveLength(1)
    const answer = await gw
      .genai()
      .models.generateContent({ model: MODEL, contents: 'what does it say', config: { tools: [{ fileSearch: { fileSearchStoreNames: [store.name!] } }] } })
    expect(answer.text).toBe('Echo: what does it say')
    expect(new Set(gw.keysUsed())).toEqual(new Set([owner]))

    // Files are spread over the keys; one of the store's key imports, one of another key's is refused up front.
    const files: GeminiFile[] = []
    for (let i = 0; i < KEYS.length; i++) files.push(await upload(`file ${i}`))
    const same = files.find((file) => ownerOf(file.name!) === owner)!
    const other = files.find((file) => ownerOf(file.name!) !== owner)!
    const imported = await gw.genai().fileSearchStores.importFile({ fileSearchStoreName: store.name!, fileName: same.name! })
    expect(imported.done).toBe(true)
    const refused = await gw
      .genai()
      .fileSearchStores.importFile({ fileSearchStoreName: store.name!, fileName: other.name! })
      .catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ApiError)
    expect(refused).toMatchObject({ status: 400, message: expect.stringContaining('belong to the projects of two different API keys') })
    expect(gw.keysUsed()).toEqual([owner])
    await gw.genai().fileSearchStores.delete({ name: store.name!, config: { force: true } })
  })
})
