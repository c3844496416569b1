import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MIGRATIONS, migrate, openDatabase, type GatewayDatabase } from '../../storage/index.ts'
import { backends, count, type Backend } from './backends.ts'

const ids = MIGRATIONS.map((m) => m.id)

describe.each(backends())('migrations on $name', (backend: Backend) => {
  const opened: GatewayDatabase[] = []
  beforeAll(() => backend.setup())
  afterAll(async () => {
    for (const db of opened) await db.close()
    await backend.teardown()
  })

  it('openDatabase applies every migration once, in order, and migrate() is then a no-op', async () => {
    const database = await backend.openFresh()
    opened.push(database)
    expect(database.dialect).toBe(backend.name)
    const rows = (await database.db.prepare('SELECT id, applied_at FROM _migrations ORDER BY id').all()) as Array<{ id: string; applied_at: number }>
    expect(rows.map((r) => r.id)).toEqual(ids)
    expect(rows.every((r) => Number(r.applied_at) > 1_700_000_000_000)).toBe(true)
    expect(await migrate(database)).toEqual([])
    expect(await migrate(database)).toEqual([])
    expect(await count(database, '_migrations')).toBe(ids.length)
  })

  it('applies only what is missing, and reopening an up-to-date database changes nothing', async () => {
    const database = await backend.openFresh()
    opened.push(database)
    await database.db.exec(`DELETE FROM _migrations WHERE id = '${ids.at(-1)}'`)
    expect(await migrate(database)).toEqual([ids.at(-1)]) // CREATE ... IF NOT EXISTS: re-running is harmless
    await database.close()
    const again = await backend.open()
    opened.push(again)
    expect(await migrate(again)).toEqual([])
    expect(await count(again, '_migrations')).toBe(ids.length)
  })

  it('creates the tables with the documented columns', async () => {
    const database = await backend.open()
    opened.push(database)
    await database.db
      .prepare(
        'INSERT INTO request_logs (time, request_id, token_id, dialect, operation, model, key_id, attempt, status, failure_class, latency_ms, prompt_tokens, completion_tokens, thinking_tokens, total_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(1_764_000_000_123, 'r', 't', 'gemini', 'generateContent', 'm', 'k', 1, null, 'transport-error', 5, null, null, null, null)
    await database.db
      .prepare(
        'INSERT INTO error_logs (time, request_id, token_id, key_id, model, operation, status, failure_class, error_body, request_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(1, 'r', 't', 'k', 'm', 'o', 500, 'upstream-5xx', 'boom', null)
    await database.db.prepare('INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)').run('MAX_FAILURES', '3', 2)
    const row = (await database.db.prepare('SELECT * FROM request_logs').get()) as Record<string, unknown>
    expect(row).toMatchObject({ time: 1_764_000_000_123, status: null, failure_class: 'transport-error', latency_ms: 5 })
    expect(Number(row.id)).toBeGreaterThan(0)
    expect(await database.db.prepare('SELECT name, value, updated_at FROM settings').get()).toEqual({ name: 'MAX_FAILURES', value: '3', updated_at: 2 })
    // The primary key of settings holds.
    await expect(database.db.prepare('INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)').run('MAX_FAILURES', '4', 3)).rejects.toThrow()
  })
})

describe('sqlite specifics', () => {
  it('a file database runs in WAL mode with the busy timeout; :memory: works too', async () => {
    const [backend] = backends()
    await backend!.setup()
    const file = await backend!.open() // busyTimeoutMs: 50, in a directory that did not exist
    try {
      expect(await file.db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
      expect(await file.db.prepare('PRAGMA busy_timeout').get()).toEqual({ timeout: 50 })
    } finally {
      await file.close()
      await backend!.teardown()
    }
    const memory = await openDatabase({ type: 'sqlite', path: ':memory:' })
    try {
      expect(await memory.db.prepare('SELECT COUNT(*) AS n FROM _migrations').get()).toEqual({ n: ids.length })
      expect(await memory.db.prepare('PRAGMA busy_timeout').get()).toEqual({ timeout: 250 })
    } finally {
      await memory.close()
    }
  })
})
