import { randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as settle } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import mysql2 from 'mysql2/promise'
import { MIGRATIONS, openDatabaseWhenReachable, type DatabaseOptions } from '../../storage/index.ts'
import { backends, count, MYSQL } from './backends.ts'

function recordingLogger() {
  const warns: string[] = []
  const infos: string[] = []
  return { warns, infos, warn: (...a: unknown[]) => warns.push(a.map(String).join(' ')), info: (...a: unknown[]) => infos.push(a.map(String).join(' ')) }
}

/** A MySQL server that is down when the gateway starts: the start goes on, the schema follows once it is back. */
describe('opening MySQL while it is down', () => {
  const mysql = backends().find((backend) => backend.name === 'mysql')!
  beforeAll(() => mysql.setup())
  afterAll(() => mysql.teardown())

  it('returns a handle at once, retries with backoff, migrates once the server is back, and says so once each', async () => {
    const restore = await mysql.outage()
    const logger = recordingLogger()
    const database = await openDatabaseWhenReachable(mysql.options(), { firstDelayMs: 20, maxDelayMs: 100, logger })
    try {
      expect(database.isReady()).toBe(false)
      const attempts = vi.spyOn(database.db, 'exec')
      await settle(500)
      expect(attempts.mock.calls.length).toBeGreaterThanOrEqual(4) // 20, 40, 80, 100, 100 ms apart
      expect(attempts.mock.calls.length).toBeLessThan(15) // backoff, not a busy loop
      expect(logger.warns).toHaveLength(1)
      expect(logger.warns[0]).toMatch(/database mysql:\/\/127\.0\.0\.1:\d+\/gemgate_t_\w+ unavailable \(connect ECONNREFUSED .*retried in the background/)
      await expect(database.db.exec('SELECT 1')).rejects.toThrow()

      await restore()
      await database.ready
      expect(database.isReady()).toBe(true)
      expect(await count(database, '_migrations')).toBe(MIGRATIONS.length)
      expect(logger.infos).toEqual([expect.stringMatching(/reachable again after \d+ attempt\(s\); schema up to date/)])
      expect(logger.warns).toHaveLength(1)
    } finally {
      await database.close()
    }
  })

  it('close() stops the retries', async () => {
    const restore = await mysql.outage()
    const database = await openDatabaseWhenReachable(mysql.options(), { firstDelayMs: 20, maxDelayMs: 20, logger: recordingLogger() })
    const attempts = vi.spyOn(database.db, 'exec')
    await settle(100)
    expect(attempts).toHaveBeenCalled()
    await database.close()
    const before = attempts.mock.calls.length
    await settle(150)
    expect(attempts.mock.calls.length).toBe(before)
    await restore()
  })

  it('a database that does not exist yet (a compose init script still running) is waited for too', async () => {
    const name = `gemgate_t_late_${randomBytes(4).toString('hex')}`
    const admin = await mysql2.createConnection({ ...MYSQL })
    const logger = recordingLogger()
    const database = await openDatabaseWhenReachable(
      { ...(mysql.options() as Extract<DatabaseOptions, { type: 'mysql' }>), database: name },
      { firstDelayMs: 20, maxDelayMs: 50, logger },
    )
    try {
      expect(database.isReady()).toBe(false)
      expect(logger.warns).toEqual([expect.stringContaining(`Unknown database '${name}'`)])
      await admin.query(`CREATE DATABASE ${name}`)
      await database.ready
      expect(await count(database, '_migrations')).toBe(MIGRATIONS.length)
    } finally {
      await database.close()
      await admin.query(`DROP DATABASE IF EXISTS ${name}`)
      await admin.end()
    }
  })

  it('a server that answers at once gives a ready handle, as openDatabase does', async () => {
    const logger = recordingLogger()
    const database = await openDatabaseWhenReachable(mysql.options(), { logger })
    try {
      expect(database.isReady()).toBe(true)
      await database.ready
      expect(logger.warns).toEqual([])
    } finally {
      await database.close()
    }
  })
})

describe('SQLite', () => {
  it('is local: it opens (or fails) at once', async () => {
    const database = await openDatabaseWhenReachable({ type: 'sqlite', path: ':memory:' })
    expect(database.isReady()).toBe(true)
    await database.close()
    const notADirectory = join(mkdtempSync(join(tmpdir(), 'gemgate-reconnect-')), 'a-file')
    writeFileSync(notADirectory, '')
    await expect(openDatabaseWhenReachable({ type: 'sqlite', path: join(notADirectory, 'x.sqlite3') })).rejects.toThrow()
  })
})
