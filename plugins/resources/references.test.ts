import { describe, expect, it } from 'vitest'
import type { GatewayRequest } from 'gemgate'
import { fileOfUri, ownerOf } from './internal/names.ts'
import { referencesOf } from './internal/references.ts'

const ORIGINS = new Set(['https://generativelanguage.googleapis.com', 'http://127.0.0.1:9000'])
const FILE_URI = 'https://generativelanguage.googleapis.com/v1beta/files/abc123'

function request(operation: string, body: Record<string, unknown>, extra: Partial<GatewayRequest> = {}): GatewayRequest {
  return { operation, model: 'gemini-2.5-flash', upstreamModel: 'gemini-2.5-flash', stream: false, body, dialect: 'gemini', credentials: [], ...extra }
}
const names = (found: readonly { name: string }[]) => found.map((resource) => resource.name)

describe('which resources a request names', () => {
  it("a generate body: file parts (both spellings, system instruction too), the cached content, file search stores, countTokens' inner request", () => {
    const body = {
      systemInstruction: { parts: [{ file_data: { file_uri: 'http://127.0.0.1:9000/v1beta/files/sys1' } }] },
      contents: [{ role: 'user', parts: [{ fileData: { fileUri: FILE_URI, mimeType: 'application/pdf' } }, { text: 'hi' }] }],
      cachedContent: 'cachedContents/c1',
      tools: [{ fileSearch: { fileSearchStoreNames: ['fileSearchStores/s1', 'fileSearchStores/s2'] } }, { googleSearch: {} }],
    }
    expect(names(referencesOf(request('generateContent', body), ORIGINS))).toEqual([
      'files/abc123',
      'files/sys1',
      'cachedContents/c1',
      'fileSearchStores/s1',
      'fileSearchStores/s2',
    ])
    const counted = request('countTokens', { generateContentRequest: { model: 'models/x', cached_content: 'cachedContents/c2', contents: [] } })
    expect(names(referencesOf(counted, ORIGINS))).toEqual(['cachedContents/c2'])
  })

  it('only where a request uses a resource: no YouTube or foreign URL, no look into function arguments or answers', () => {
    const body = {
      contents: [
        {
          role: 'user',
          parts: [{ fileData: { fileUri: 'https://www.youtube.com/watch?v=files/x' } }, { fileData: { fileUri: 'https://example.com/v1beta/files/report' } }],
        },
        { role: 'model', parts: [{ functionCall: { name: 'f', args: { uri: FILE_URI, cachedContent: 'cachedContents/z' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'f', response: { fileData: { fileUri: FILE_URI } } } }] },
      ],
    }
    expect(referencesOf(request('generateContent', body), ORIGINS)).toEqual([])
  })

  it("a batch's input file and inline requests, a video to extend, an import's file, and the path a REST call acts on", () => {
    const batch = { batch: { inputConfig: { requests: { requests: [{ request: { contents: [{ parts: [{ fileData: { fileUri: FILE_URI } }] }] } }] } } } }
    expect(names(referencesOf(request('batchGenerateContent', batch), ORIGINS))).toEqual(['files/abc123'])
    expect(names(referencesOf(request('batchGenerateContent', { batch: { input_config: { file_name: 'files/in1' } } }), ORIGINS))).toEqual(['files/in1'])
    const video = { instances: [{ prompt: 'longer', video: { uri: `${FILE_URI}:download?alt=media` } }] }
    expect(names(referencesOf(request('predictLongRunning', video), ORIGINS))).toEqual(['files/abc123'])
    const imported = request('resources.post', { fileName: 'files/f9' }, { resource: 'fileSearchStores/s1:importFile' })
    expect(names(referencesOf(imported, ORIGINS))).toEqual(['fileSearchStores/s1', 'files/f9'])
    expect(names(referencesOf(request('resources.get', {}, { resource: 'fileSearchStores/s1/documents/d1' }), ORIGINS))).toEqual(['fileSearchStores/s1'])
    expect(referencesOf(request('resources.post', {}, { resource: 'fileSearchStores' }), ORIGINS)).toEqual([])
  })

  it("a raw body that mentions no resource is not parsed, and its request keeps the client's bytes", () => {
    let read = false
    const plain = request('generateContent', {}, { rawBody: '{"contents":[{"parts":[{"text":"hello"}]}]}' })
    Object.defineProperty(plain, 'body', { get: () => ((read = true), {}) })
    expect(referencesOf(plain, ORIGINS)).toEqual([])
    expect(read).toBe(false)
  })

  it('names: the owner of a path, and the file of a URI', () => {
    expect(ownerOf('files/abc:download')).toEqual({ name: 'files/abc', kind: 'file' })
    expect(ownerOf('batches/b1:cancel')).toEqual({ name: 'batches/b1', kind: 'batch' })
    expect(ownerOf('models/veo-3.0-generate-001/operations/op1')).toEqual({ name: 'models/veo-3.0-generate-001/operations/op1', kind: 'operation' })
    expect(ownerOf('fileSearchStores/s1/upload/operations/o1')).toEqual({ name: 'fileSearchStores/s1', kind: 'fileSearchStore' })
    for (const none of ['files', 'files/a/b', 'models/x', 'tunedModels/t', 'files/../x']) expect(ownerOf(none)).toBeUndefined()
    expect(fileOfUri('files/abc', ORIGINS)).toEqual({ name: 'files/abc', kind: 'file' })
    expect(fileOfUri('https://evil.example/v1beta/files/abc', ORIGINS)).toBeUndefined()
    expect(fileOfUri('not a url at all https://', ORIGINS)).toBeUndefined()
  })
})
