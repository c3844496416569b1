import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMediaFetcher, isPrivateAddress, parseDataUrl } from '../../core/dialects/shared/media.ts'

/** The fetcher for image/file URLs in client messages: the gateway must not become an SSRF relay. */
describe('media fetcher', () => {
  let server: Server
  let port = 0
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/cat.png') return void res.writeHead(200, { 'content-type': 'image/png; charset=binary' }).end(Buffer.from([1, 2, 3]))
      if (req.url === '/untyped.pdf') return void res.writeHead(200).end('%PDF')
      if (req.url === '/big') return void res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(3000))
      if (req.url === '/chunked-big') {
        res.writeHead(200, { 'content-type': 'image/png' })
        for (let i = 0; i < 10; i++) res.write(Buffer.alloc(500))
        return void res.end()
      }
      if (req.url === '/moved') return void res.writeHead(302, { location: '/cat.png' }).end()
      if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end('late'), 2000)
      res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const open = createMediaFetcher({ timeoutMs: 500, maxBytes: 2048, allowPrivate: true })
  const guarded = createMediaFetcher({ timeoutMs: 500, maxBytes: 2048, allowPrivate: false })
  const at = (path: string, host = '127.0.0.1') => `http://${host}:${port}${path}`

  it('fetches as base64 with the server\'s type, or one guessed from the name', async () => {
    expect(await open(at('/cat.png'))).toEqual({ mimeType: 'image/png', data: 'AQID' })
    expect(await open(at('/untyped.pdf'))).toEqual({ mimeType: 'application/pdf', data: Buffer.from('%PDF').toString('base64') })
  })

  it('refuses loopback and private targets by default, by literal address and by name', async () => {
    await expect(guarded(at('/cat.png'))).rejects.toMatchObject({ status: 400, message: expect.stringContaining('private address') })
    await expect(guarded(at('/cat.png', 'localhost'))).rejects.toMatchObject({ status: 400, message: expect.stringContaining('private address') })
    await expect(guarded(`http://[::1]:${port}/cat.png`)).rejects.toMatchObject({ status: 400 })
  })

  it('caps size (declared or streamed) and time, refuses other schemes, does not follow redirects', async () => {
    await expect(open(at('/big'))).rejects.toMatchObject({ status: 413 })
    await expect(open(at('/chunked-big'))).rejects.toMatchObject({ status: 413 })
    await expect(open(at('/slow'))).rejects.toMatchObject({ status: 400, message: expect.stringContaining('Could not fetch') })
    await expect(open(at('/missing'))).rejects.toMatchObject({ status: 400, message: expect.stringContaining('404') })
    await expect(open(at('/moved'))).rejects.toMatchObject({ status: 400, message: expect.stringContaining('302') })
    await expect(open('file:///etc/passwd')).rejects.toMatchObject({ status: 400 })
    await expect(open('not a url')).rejects.toMatchObject({ status: 400 })
  })

  it.each([
    ['127.0.0.1', true], ['10.1.2.3', true], ['172.16.0.1', true], ['192.168.1.1', true], ['169.254.169.254', true],
    ['100.64.0.1', true], ['0.0.0.0', true], ['::1', true], ['fd00::1', true], ['fe80::1', true], ['::ffff:127.0.0.1', true],
    ['8.8.8.8', false], ['142.250.74.46', false], ['2a00:1450:4001:80b::200e', false], ['not-an-ip', true],
  ])('isPrivateAddress(%s) is %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected)
  })

  it('reads base64 data URLs', () => {
    expect(parseDataUrl('data:image/jpg;base64,QUJD')).toEqual({ mimeType: 'image/jpeg', data: 'QUJD' })
    expect(parseDataUrl('data:image/png;name=x.png;base64,QQ==')).toEqual({ mimeType: 'image/png', data: 'QQ==' })
    expect(parseDataUrl('https://example.com/x.png')).toBeUndefined()
    expect(parseDataUrl('data:text/plain,hello')).toBeUndefined()
  })
})
