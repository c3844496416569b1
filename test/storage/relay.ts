// A loopback TCP relay the tests put in front of MariaDB or Redis, to take the server away and bring it back.
import net from 'node:net'

/**
 * A loopback TCP relay to a server: `down()` drops every connection and refuses new ones (a dead server, as the
 * clients see it), `up()` listens again on the same port.
 */
export class Relay {
  port = 0
  #server: net.Server | undefined
  readonly #sockets = new Set<net.Socket>()

  readonly #target: { host: string; port: number }

  constructor(target: { host: string; port: number }) {
    this.#target = target
  }

  async up(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.#target.port, this.#target.host)
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket)
        socket.on('close', () => this.#sockets.delete(socket))
        socket.on('error', () => {})
      }
      client.pipe(upstream).pipe(client)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as net.AddressInfo).port
    this.#server = server
  }

  async down(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    for (const socket of this.#sockets) socket.destroy()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
