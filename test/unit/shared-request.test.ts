import { mockEvent } from 'h3'
import { describe, expect, it } from 'vitest'
import type { RequestContext } from '../../core/context.ts'
import type { FetchedMedia } from '../../core/dialects/shared/media.ts'
import { credentialsOf, mediaPreparer, type PendingMedia } from '../../core/dialects/shared/request.ts'
import { GatewayError } from '../../core/errors.ts'

const ctx = { signal: new AbortController().signal } as RequestContext

describe('credentialsOf', () => {
  it("the dialect's own headers, the Bearer token, x-goog-api-key and ?key=", () => {
    const event = mockEvent('/v1/messages?key=q', { headers: { 'x-api-key': 'a', authorization: 'Bearer b', 'x-goog-api-key': 'g' } })
    expect(credentialsOf(event, 'x-api-key')).toEqual(['a', 'b', 'g', 'q'])
    expect(credentialsOf(mockEvent('/v1/models'))).toEqual([undefined, undefined, undefined])
  })
})

describe('mediaPreparer', () => {
  const fetching = (answers: Record<string, FetchedMedia | GatewayError>) => ({
    fetchMedia: async (url: string) => {
      const answer = answers[url]!
      if (answer instanceof GatewayError) throw answer
      return answer
    },
  })

  it('nothing to fetch: no prepare step', () => {
    expect(mediaPreparer([], fetching({}))).toBeUndefined()
  })

  it('fills every part; the fallback type only when the server said none', async () => {
    const media: PendingMedia[] = [
      { part: {}, url: 'https://x/cat.png', param: 'a' },
      { part: {}, url: 'https://x/doc', param: 'b', fallbackMimeType: 'application/pdf' },
      { part: {}, url: 'https://x/typed', param: 'c', fallbackMimeType: 'application/pdf' },
    ]
    const prepare = mediaPreparer(
      media,
      fetching({
        'https://x/cat.png': { mimeType: 'image/png', data: 'QQ==' },
        'https://x/doc': { mimeType: 'application/octet-stream', data: 'Qg==' },
        'https://x/typed': { mimeType: 'text/plain', data: 'Qw==' },
      }),
    )!
    await prepare(ctx)
    expect(media.map((m) => m.part)).toEqual([
      { inlineData: { mimeType: 'image/png', data: 'QQ==' } },
      { inlineData: { mimeType: 'application/pdf', data: 'Qg==' } },
      { inlineData: { mimeType: 'text/plain', data: 'Qw==' } },
    ])
  })

  it('a failed fetch keeps its status and headers and names the field', async () => {
    const refused = new GatewayError(413, 'Media is larger than 20 MB (MEDIA_FETCH_MAX_MB).', { headers: { 'x-why': 'size' } })
    const prepare = mediaPreparer([{ part: {}, url: 'https://x/big', param: 'messages[0].content[1].image_url.url' }], fetching({ 'https://x/big': refused }))!
    const error = await prepare(ctx).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(GatewayError)
    expect(error).toMatchObject({
      status: 413,
      message: 'messages[0].content[1].image_url.url: Media is larger than 20 MB (MEDIA_FETCH_MAX_MB).',
      param: 'messages[0].content[1].image_url.url',
      headers: { 'x-why': 'size' },
    })
  })
})
