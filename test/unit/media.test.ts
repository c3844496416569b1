import { createServer, type Server } from 'node:http'
import { BlockList, isIP, type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PRIVATE_RANGES, createMediaFetcher, formatSize, isPrivateAddress, parseDataUrl } from '../../core/dialects/shared/media.ts'

/** The fetcher for image/file URLs in client messages: the gateway must not become an SSRF relay. */
describe('media fetcher', () => {
  let server: Server
  let port = 0
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/cat.png') return void res.writeHead(200, { 'content-type': 'image/png; charset=binary' }).end(Buffer.from([1, 2, 3]))
      if (req.url === '/untyped.pdf') return void res.writeHead(200).end('%PDF')
      if (req.url === '/untyped.constructor') return void res.writeHead(200).end('?')
      if (req.url === '/big') return void res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(3000))
      if (req.url === '/chunked-big') {
        res.writeHead(200, { 'content-type': 'image/png' })
        for (let i = 0; i < 10; i++) res.write(Buffer.alloc(500))
        return void res.end()
      }
      if (req.url === '/moved') return void res.writeHead(302, { location: '/cat.png' }).end()
      if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end('late'), 6000)
      res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  // 1.5 s: far past a loopback fetch even on a loaded machine, far below the slow path's 6 s.
  const open = createMediaFetcher({ timeoutMs: 1500, maxBytes: 2048, allowPrivate: true })
  const guarded = createMediaFetcher({ timeoutMs: 1500, maxBytes: 2048, allowPrivate: false })
  const at = (path: string, host = '127.0.0.1') => `http://${host}:${port}${path}`

  it("fetches as base64 with the server's type, or one guessed from the name", async () => {
    expect(await open(at('/cat.png'))).toEqual({ mimeType: 'image/png', data: 'AQID' })
    expect(await open(at('/untyped.pdf'))).toEqual({ mimeType: 'application/pdf', data: Buffer.from('%PDF').toString('base64') })
    // The extension is the client's: an inherited name like `constructor` finds no type.
    expect(await open(at('/untyped.constructor'))).toMatchObject({ mimeType: 'application/octet-stream' })
  })

  it('refuses loopback and private targets by default, by literal address and by name', async () => {
    await expect(guarded(at('/cat.png'))).rejects.toMatchObject({ status: 400, message: expect.stringContaining('private address') })
    await expect(guarded(at('/cat.png', 'localhost'))).rejects.toMatchObject({ status: 400, message: expect.stringContaining('private address') })
    await expect(guarded(`http://[::1]:${port}/cat.png`)).rejects.toMatchObject({ status: 400 })
  })

  it('caps size (declared or streamed) and time, refuses other schemes, does not follow redirects', async () => {
    await expect(open(at('/big'))).rejects.toMatchObject({ status: 413 })
    await expect(open(at('/chunked-big'))).rejects.toMatchObject({ status: 413 })
    await expect(open(at('/slow'))).rejects.toMatchObject({ status: 400 })
    await expect(open(at('/missing'))).rejects.toMatchObject({ status: 400, message: expect.stringContaining('404') })
    await expect(open(at('/moved'))).rejects.toMatchObject({ status: 400, message: expect.stringContaining('302') })
    await expect(open('file:///etc/passwd')).rejects.toMatchObject({ status: 400 })
    await expect(open('not a url')).rejects.toMatchObject({ status: 400 })
  })

  it('says why a fetch failed in words: timeout, refused connection, DNS failure, too large', async () => {
    const slow = await open(at('/slow')).catch((e: unknown) => e)
    expect(slow).toMatchObject({ status: 400, message: `Fetching media from 127.0.0.1:${port} timed out after 1.5 s (MEDIA_FETCH_TIMEOUT).` })

    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const closedPort = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    await expect(open(`http://127.0.0.1:${closedPort}/x.png`)).rejects.toMatchObject({
      status: 400,
      message: `Could not fetch media from 127.0.0.1:${closedPort}: the connection was refused.`,
    })
    // .invalid never resolves (RFC 6761), with or without a network.
    await expect(open('http://no-such-host.invalid/x.png')).rejects.toMatchObject({
      status: 400,
      message: 'Could not fetch media from no-such-host.invalid: its host name could not be resolved (DNS).',
    })
    await expect(open(at('/big'))).rejects.toMatchObject({ status: 413, message: `Media from 127.0.0.1:${port} is larger than 2 KB (MEDIA_FETCH_MAX_MB).` })
  })

  it('a fetch cancelled by its caller says so (499), not a network failure', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    await expect(open(at('/slow'), controller.signal)).rejects.toMatchObject({ status: 499, message: expect.stringContaining('cancelled') })
  })

  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['::', true],
    ['fd00::1', true],
    ['fe80::1', true],
    ['fe80::1%eth0', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:10.0.0.1', true],
    // IPv6 forms that carry an IPv4 address, or are not public
    ['64:ff9b::7f00:1', true],
    ['64:ff9b::808:808', true],
    ['64:ff9b:1::a00:1', true],
    ['2002:7f00:1::1', true],
    ['2002:808:808::1', true],
    ['::7f00:1', true],
    ['::127.0.0.1', true],
    ['::ffff:0:7f00:1', true],
    ['fec0::1', true],
    ['100::1', true],
    ['2001::1', true],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', true],
    ['2001:db8::1', true],
    ['3fff::1', true],
    ['ff02::1', true],
    // public
    ['8.8.8.8', false],
    ['1.1.1.1', false],
    ['142.250.74.46', false],
    ['::ffff:8.8.8.8', false],
    ['2a00:1450:4001:80b::200e', false],
    ['2606:4700::1111', false],
    ['2001:4860:4860::8888', false],
    ['2620:fe::fe', false],
    ['not-an-ip', true],
  ])('isPrivateAddress(%s) is %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected)
  })

  // BlockList matches IPv4 addresses against IPv4-mapped IPv6 rules: one careless IPv6 rule can block all of IPv4.
  it.each(PRIVATE_RANGES.map(([network, prefix, family]) => [`${network}/${prefix}`, network, prefix, family] as const))(
    'the rule %s alone leaves public IPv4 and IPv6 allowed',
    (_, network, prefix, family) => {
      const alone = new BlockList()
      alone.addSubnet(network, prefix, family)
      for (const address of ['8.8.8.8', '1.1.1.1', '142.250.74.46', '2606:4700::1111', '2001:4860:4860::8888']) {
        expect(alone.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4'), address).toBe(false)
      }
    },
  )

  it('sizes read as an operator set them', () => {
    expect(formatSize(20 * 1048576)).toBe('20 MB')
    expect(formatSize(1.5 * 1048576)).toBe('1.5 MB')
    expect(formatSize(2048)).toBe('2 KB')
  })

  it('reads base64 data URLs', () => {
    expect(parseDataUrl('data:image/jpg;base64,QUJD')).toEqual({ mimeType: 'image/jpeg', data: 'QUJD' })
    expect(parseDataUrl('data:image/png;name=x.png;base64,QQ==')).toEqual({ mimeType: 'image/png', data: 'QQ==' })
    expect(parseDataUrl('https://example.com/x.png')).toBeUndefined()
    expect(parseDataUrl('data:text/plain,hello')).toBeUndefined()
  })
})
