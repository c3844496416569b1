import { describe, expect, it } from 'vitest'
import type { RequestContext } from '../../core/context.ts'
import type { FetchedMedia, MediaLimits } from '../../core/dialects/shared/media.ts'
import { mediaPreparer, type PendingMedia } from '../../core/dialects/shared/request.ts'
import { GatewayError } from '../../core/errors.ts'

/**
 * The bounds on one request's media URLs: how many, how much in all, how many at once, and that one failure (or
 * the client leaving) stops the rest. The fetcher here is scripted per URL; each call sees the signal it was given.
 */
const limits: MediaLimits = { maxUrls: 8, maxTotalBytes: 1000, concurrency: 3 }
const pending = (count: number, path = 'img'): PendingMedia[] =>
  Array.from({ length: count }, (_, i) => ({ part: {}, url: `https://host/${path}/${i}`, param: `messages[${i}].content[0].image_url.url` }))

interface Call {
  url: string
  signal: AbortSignal
}

/** Fetches that take `ms` each (or wait forever when `ms` is undefined), tracking how many run at once. */
function scriptedFetcher(answer: (url: string) => { ms?: number; fail?: GatewayError | Error; bytes?: number }) {
  const calls: Call[] = []
  let running = 0
  let peak = 0
  const fetchMedia = (url: string, signal?: AbortSignal): Promise<FetchedMedia> => {
    calls.push({ url, signal: signal! })
    running++
    peak = Math.max(peak, running)
    const { ms, fail, bytes = 3 } = answer(url)
    return new Promise<FetchedMedia>((resolve, reject) => {
      const timer =
        ms === undefined
          ? undefined
          : setTimeout(() => (fail ? reject(fail) : resolve({ mimeType: 'image/png', data: Buffer.alloc(bytes).toString('base64') })), ms)
      signal!.addEventListener('abort', () => {
        clearTimeout(timer)
        reject(new GatewayError(499, 'cancelled'))
      })
    }).finally(() => running--)
  }
  return { fetchMedia, calls, peak: () => peak, running: () => running }
}

const context = (signal = new AbortController().signal) => ({ signal }) as RequestContext
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  )

describe('mediaPreparer bounds', () => {
  it('fetches at most `concurrency` at once and fills every part', async () => {
    const fetcher = scriptedFetcher(() => ({ ms: 5 }))
    const media = pending(8)
    await mediaPreparer(media, { fetchMedia: fetcher.fetchMedia, mediaLimits: limits })!(context())
    expect(fetcher.calls).toHaveLength(8)
    expect(fetcher.peak()).toBe(3)
    expect(media.every((m) => (m.part.inlineData as { data: string }).data === 'AAAA')).toBe(true)
  })

  it('more URLs than allowed: a 400 naming the limit, and nothing fetched', async () => {
    const fetcher = scriptedFetcher(() => ({ ms: 1 }))
    const error = await failureOf(mediaPreparer(pending(9), { fetchMedia: fetcher.fetchMedia, mediaLimits: limits })!(context()))
    expect(error).toBeInstanceOf(GatewayError)
    expect(error).toMatchObject({
      status: 400,
      param: 'messages[8].content[0].image_url.url',
      message: expect.stringContaining('this request links 9 media URLs; at most 8 are fetched per request (MEDIA_FETCH_MAX_URLS)'),
    })
    expect(fetcher.calls).toHaveLength(0)
  })

  it('the default is 32 URLs', async () => {
    const fetcher = scriptedFetcher(() => ({ ms: 1 }))
    await mediaPreparer(pending(32), fetcher)!(context())
    expect(fetcher.calls).toHaveLength(32)
    const error = await failureOf(mediaPreparer(pending(33), fetcher)!(context()))
    expect(error).toMatchObject({ status: 400, message: expect.stringContaining('at most 32') })
    expect(fetcher.calls).toHaveLength(32)
  })

  it('the first failure is the answer: fetches in flight are aborted, queued ones never start', async () => {
    const refused = new GatewayError(400, 'Could not fetch media from host: the connection was refused.')
    const fetcher = scriptedFetcher((url) => (url.endsWith('/1') ? { ms: 10, fail: refused } : {}))
    const error = await failureOf(mediaPreparer(pending(8), { fetchMedia: fetcher.fetchMedia, mediaLimits: limits })!(context()))
    expect(error).toMatchObject({
      status: 400,
      param: 'messages[1].content[0].image_url.url',
      message: `messages[1].content[0].image_url.url: ${refused.message}`,
    })
    expect(fetcher.calls.map((c) => c.url)).toEqual(['https://host/img/0', 'https://host/img/1', 'https://host/img/2'])
    expect(fetcher.calls.every((c) => c.signal.aborted)).toBe(true)
    expect(fetcher.running()).toBe(0)
  })

  it('the client leaving aborts every fetch in flight and starts no more (499)', async () => {
    const fetcher = scriptedFetcher(() => ({}))
    const client = new AbortController()
    const prepared = failureOf(mediaPreparer(pending(8), { fetchMedia: fetcher.fetchMedia, mediaLimits: limits })!(context(client.signal)))
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(fetcher.running()).toBe(3)
    client.abort()
    expect(await prepared).toMatchObject({ status: 499 })
    expect(fetcher.calls).toHaveLength(3)
    expect(fetcher.calls.every((c) => c.signal.aborted)).toBe(true)
    expect(fetcher.running()).toBe(0)
  })

  it('the media of one request are capped in total (413), and the rest stop', async () => {
    const fetcher = scriptedFetcher((url) => ({ ms: url.endsWith('/0') ? 1 : url.endsWith('/1') ? 5 : 50, bytes: 600 }))
    const error = await failureOf(mediaPreparer(pending(8), { fetchMedia: fetcher.fetchMedia, mediaLimits: limits })!(context()))
    expect(error).toMatchObject({
      status: 413,
      message: 'messages[1].content[0].image_url.url: The media of this request add up to more than 1 KB (MEDIA_FETCH_TOTAL_MAX_MB).',
    })
    expect(fetcher.calls.every((c) => c.signal.aborted)).toBe(true)
    expect(fetcher.calls.length).toBeLessThan(8)
  })

  it('a bug (not a GatewayError) is rethrown as it is, for the app to log as a 500', async () => {
    const bug = new TypeError('boom')
    const fetcher = scriptedFetcher(() => ({ ms: 1, fail: bug }))
    expect(await failureOf(mediaPreparer(pending(2), { fetchMedia: fetcher.fetchMedia, mediaLimits: limits })!(context()))).toBe(bug)
  })
})
