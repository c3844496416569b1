// The reference hop for the benchmark: what forwarding through Node costs with no framework at all
// (DESIGN.md "Performance budget"). Pipes request → upstream and response → client, swapping in the API key.
// Env: UPSTREAM (origin, e.g. http://127.0.0.1:PORT), UPSTREAM_KEY (sent as x-goog-api-key), PORT (0 = any free).
// Prints one line "bare-proxy listening on http://127.0.0.1:PORT".
import http from 'node:http'
import type { AddressInfo } from 'node:net'

const upstream = new URL(process.env.UPSTREAM ?? 'http://127.0.0.1:1')
const key = process.env.UPSTREAM_KEY ?? ''
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })

const server = http.createServer((req, res) => {
  const headers = { ...req.headers, host: upstream.host, 'x-goog-api-key': key }
  const options = { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }
  const up = http.request(options, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers)
    upRes.pipe(res)
  })
  up.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()))
  req.pipe(up)
})

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`bare-proxy listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
process.on('SIGTERM', () => process.exit(0))
process.on('SIGINT', () => process.exit(0))
