// Redis for the instance tests: a fresh key prefix per run, a relay in front of Redis that a test can cut and
// restore, recording loggers, and the cleanup of every key the run made.
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createConsola, type ConsolaInstance, type LogObject } from 'consola'
import Redis from 'ioredis'
import { REDIS_URL } from '../storage/backends.ts'

export { REDIS_URL }

export const freshPrefix = () => `gemgate_t_${randomBytes(5).toString('hex')}`

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

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
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

export function redisRelay(): Relay {
  const target = new URL(REDIS_URL)
  return new Relay({ host: target.hostname, port: Number(target.port || 6379) })
}

/** A logger that keeps every line (any level) as `type: text`. */
export function recordingLogger(): { logger: ConsolaInstance; lines: string[] } {
  const lines: string[] = []
  const logger = createConsola({
    level: 5,
    reporters: [
      { log: (entry: LogObject) => void lines.push(`${entry.type}: ${entry.args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' ')}`) },
    ],
  })
  return { logger, lines }
}

/** Deletes every key under `prefix`. */
export async function clearPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.unlink(keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

/** Resolves once `condition` holds (polled every 10 ms); throws after `ms`. */
export async function until(condition: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`)
    await sleep(10)
  }
}
