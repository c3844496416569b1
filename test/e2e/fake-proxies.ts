// Outbound proxies for tests: an HTTP proxy that tunnels (CONNECT, as undici uses one) and a SOCKS5 proxy. Both
// record what they were asked for.
import { createServer, type Server } from 'node:http'
import net, { type AddressInfo } from 'node:net'

/** Listens on a free loopback port; resolves with the port. */
export const listen = (server: net.Server) =>
  new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))

/** An HTTP proxy that only tunnels (CONNECT), as undici uses it; it records who asked for what. */
export function connectProxy(seen: string[]): Server {
  const server = createServer((_req, res) => res.writeHead(405).end())
  server.on('connect', (req, client, head) => {
    seen.push(`${req.url} ${req.headers['proxy-authorization'] ?? ''}`.trim())
    const [host, port] = req.url!.split(':')
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client).pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  return server
}

/** A minimal SOCKS5 proxy (no auth, CONNECT only). */
export function socks5Proxy(seen: string[]): net.Server {
  return net.createServer((client) => {
    client.once('data', () => {
      client.write(Buffer.from([5, 0]))
      client.once('data', (request) => {
        const type = request[3]
        let host: string
        let offset: number
        if (type === 1) [host, offset] = [request.subarray(4, 8).join('.'), 8]
        else [host, offset] = [request.subarray(5, 5 + request[4]!).toString(), 5 + request[4]!]
        const port = request.readUInt16BE(offset)
        seen.push(`${host}:${port}`)
        const upstream = net.connect(port, host, () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]))
          upstream.pipe(client).pipe(upstream)
        })
        upstream.on('error', () => client.destroy())
      })
    })
    client.on('error', () => {})
  })
}
