import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { setTimeout as settle } from 'node:timers/promises'
import Redis from 'ioredis'
import type { Storage } from 'unstorage'
import { afterAll, describe, expect, it } from 'vitest'
import { createIdHasher } from '../../core/identity.ts'
import { KeyPool } from '../../core/keys/pool.ts'
import { createKeyHealthStore, type KeyHealthStore } from '../../core/keys/store.ts'
import { createStateStorage } from '../../storage/index.ts'
import { REDIS_URL } from './backends.ts'

const base = `gemgate_t_${randomBytes(5).toString('hex')}`
const cases = [
  { name: 'memory', make: () => createStateStorage({}) },
  { name: 'redis', make: () => createStateStorage({ redisUrl: REDIS_URL, base }) },
]

describe.each(cases)('state storage on $name', ({ name, make }) => {
  const storages: Storage[] = []
  afterAll(async () => {
    for (const s of storages) {
      await s.clear()
      await s.dispose()
    }
  })

  it('round-trips values, lists and removes keys', async () => {
    const state = make()
    storages.push(state)
    await state.setItem('keys:k1', { status: 'cooling', until: 1_764_000_000_000, models: ['gemini-2.5-pro'] })
    await state.setItem('keys:k2', { status: 'active' })
    await state.setItem('counter', 3)
    expect(await state.getItem('keys:k1')).toEqual({ status: 'cooling', until: 1_764_000_000_000, models: ['gemini-2.5-pro'] })
    expect(await state.getItem('counter')).toBe(3)
    expect(await state.hasItem('keys:k2')).toBe(true)
    expect((await state.getKeys('keys')).sort()).toEqual(['keys:k1', 'keys:k2'])
    await state.removeItem('keys:k2')
    expect(await state.getItem('keys:k2')).toBeNull()
    expect(await state.getKeys('keys')).toEqual(['keys:k1'])
  })

  if (name === 'redis') {
    it('keeps its keys under the base prefix and shares them with a second instance', async () => {
      const a = make()
      const b = make()
      storages.push(a, b)
      await a.setItem('keys:shared', { status: 'disabled' })
      expect(await b.getItem('keys:shared')).toEqual({ status: 'disabled' })
      const raw = new Redis(REDIS_URL)
      try {
        expect(await raw.get(`${base}:keys:shared`)).toBe('{"status":"disabled"}')
        await a.clear()
        expect(await raw.keys(`${base}:*`)).toEqual([])
      } finally {
        raw.disconnect()
      }
    })
  }
})

/** A loopback port in front of Redis that can be closed (connections refused) and opened again. */
class RedisRelay {
  port = 0
  private server: net.Server | undefined
  private readonly sockets = new Set<net.Socket>()

  async up(): Promise<void> {
    const target = new URL(REDIS_URL)
    const server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 6379), target.hostname)
      for (const socket of [client, upstream]) {
        this.sockets.add(socket)
        socket.on('close', () => this.sockets.delete(socket))
        socket.on('error', () => {})
      }
      client.pipe(upstream).pipe(client)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()))
    this.port = (server.address() as net.AddressInfo).port
    this.server = server
  }

  async down(): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const socket of this.sockets) socket.destroy()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

async function until(condition: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !(await condition()); await settle(25)) if (Date.now() > end) throw new Error('condition not met in time')
}

describe('Redis going away and coming back', () => {
  it('is said once each way, and key health saved meanwhile reaches Redis once it is back', async () => {
    const relay = new RedisRelay()
    await relay.up()
    await relay.down() // down from the start: the port is known, nothing listens
    const logged = { warns: [] as string[], infos: [] as string[], storeErrors: 0, storeRecoveries: 0 }
    const prefix = `gemgate_t_${randomBytes(5).toString('hex')}`
    let store: KeyHealthStore | undefined
    const state = createStateStorage({
      redisUrl: `redis://127.0.0.1:${relay.port}`,
      base: prefix,
      logger: { warn: (message: string) => logged.warns.push(message), info: (message: string) => logged.infos.push(message) },
      onReconnect: () => void store?.flush(),
    })
    store = createKeyHealthStore(state, { onError: () => logged.storeErrors++, onRecover: () => logged.storeRecoveries++ })
    const pool = new KeyPool(['AIzaSy-relay-key-one-000000000001', 'AIzaSy-relay-key-two-000000000002'], {
      maxFailures: 1,
      idOf: createIdHasher('test-deployment-secret-of-32-chars'),
      onChange: store.save,
    })
    const raw = new Redis(REDIS_URL)
    try {
      const cool = (index: number) =>
        pool.apply(pool.keys[index]!, {
          class: 'rate-limited',
          retry: true,
          effect: { kind: 'cooldown', model: 'm', until: Date.now() + 60_000, reason: 'rate-limited' },
          reason: 'rpm',
        })
      cool(0)
      await until(() => logged.storeErrors === 1)
      await settle(300) // several reconnect attempts, each an 'error' event
      cool(1)
      await store.flush()
      expect(logged.warns).toEqual([expect.stringMatching(/^Redis unreachable \(.*ECONNREFUSED.*\), key state kept in memory until it is back$/)])
      expect(logged.storeErrors).toBe(1)

      await relay.up()
      const saved = (index: number) => raw.get(`${prefix}:keys:health:${pool.keys[index]!.id}`)
      await until(async () => (await saved(0)) !== null && (await saved(1)) !== null)
      expect(JSON.parse((await saved(1))!).cooldowns.m.reason).toBe('rate-limited')
      expect(logged.infos).toEqual(['Redis reachable again; key state is shared again'])
      expect(logged.storeRecoveries).toBe(1)
      expect(logged.warns).toHaveLength(1)
    } finally {
      await state.clear().catch(() => {})
      await state.dispose()
      raw.disconnect()
      await relay.down()
    }
  })
})
