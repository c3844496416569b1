// Redis for the instance tests: a fresh key prefix per run, a relay in front of Redis that a test can cut and
// restore, recording loggers, and the cleanup of every key the run made.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createConsola, type ConsolaInstance, type LogObject } from 'consola'
import Redis from 'ioredis'
import { REDIS_URL } from '../storage/backends.ts'
import { Relay } from '../storage/relay.ts'

export { REDIS_URL }

export const freshPrefix = () => `gemgate_t_${randomBytes(5).toString('hex')}`

/** The relay in front of the tests' Redis, with the URL clients connect to. */
export class RedisRelay extends Relay {
  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }
}

export function redisRelay(): RedisRelay {
  const target = new URL(REDIS_URL)
  return new RedisRelay({ host: target.hostname, port: Number(target.port || 6379) })
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
