// Settings saved in the console (SettingsStore in queries.ts), in the `settings` table of migration 003: one row per
// config path, its value as JSON text. Names starting with '_' are the gateway's own rows (the deployment secret):
// never loaded as settings, never written or removed here.
import type { GatewayDatabase } from './db.ts'
import { chunks, createRunner, placeholders, type StoreOptions } from './internal/sql.ts'
import type { SettingsStore } from './queries.ts'

const NAME_MAX = 191
/** A MySQL TEXT column holds 65 535 bytes. */
const VALUE_MAX_BYTES = 65_535
const BATCH = 200
/** The gateway's own row: moves whenever the console changes something (see SettingsStore.version). */
const VERSION = '_settings_version'

export function createSettingsStore(database: GatewayDatabase, options: StoreOptions = {}): SettingsStore {
  const runner = createRunner(database, 'settings', options)
  const upsert =
    runner.dialect === 'sqlite'
      ? 'ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at'
      : 'ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at)'

  return {
    async load() {
      const rows = await runner.all<{ name: string; value: string | null }>('load settings', 'SELECT name, value FROM settings ORDER BY name')
      const values: Record<string, unknown> = {}
      for (const { name, value } of rows) if (!name.startsWith('_') && value !== null) values[name] = parse(value)
      return values
    },

    async save(values) {
      const rows = Object.entries(values).map(([name, value]) => {
        checkName(name)
        const json = value === undefined ? undefined : JSON.stringify(value)
        if (json === undefined) throw new Error(`storage: settings: ${name}: a value must be JSON (use remove() to unset it)`)
        if (Buffer.byteLength(json) > VALUE_MAX_BYTES) throw new Error(`storage: settings: ${name}: the value is larger than ${VALUE_MAX_BYTES} bytes`)
        return [name, json] as const
      })
      if (rows.length === 0) return
      const updatedAt = Date.now()
      const statements = chunks(rows, BATCH).map((batch) => ({
        sql: `INSERT INTO settings (name, value, updated_at) VALUES ${batch.map(() => '(?, ?, ?)').join(', ')} ${upsert}`,
        params: batch.flatMap(([name, json]) => [name, json, updatedAt]),
      }))
      await runner.transaction('save settings', statements) // all or nothing
    },

    async version() {
      const rows = await runner.all<{ value: string | null }>('read the settings version', 'SELECT value FROM settings WHERE name = ?', [VERSION])
      return Number(rows[0]?.value ?? 0) || 0
    },

    async touch() {
      // A random value, not a counter: two instances touching at once still move it, with no read-modify-write.
      const stamp = String(Date.now() * 1000 + Math.floor(Math.random() * 1000))
      await runner.run('touch the settings version', `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?) ${upsert}`, [VERSION, stamp, Date.now()])
    },

    async remove(names) {
      if (!Array.isArray(names)) throw new Error('storage: settings: names must be a list')
      for (const name of names) checkName(name)
      for (const batch of chunks([...new Set(names)], BATCH)) {
        await runner.run('remove settings', `DELETE FROM settings WHERE name IN (${placeholders(batch.length)})`, batch)
      }
    },
  }
}

function checkName(name: unknown): void {
  if (typeof name !== 'string' || name === '' || name.length > NAME_MAX) throw new Error(`storage: settings: a name is 1 to ${NAME_MAX} characters`)
  if (name.startsWith('_')) throw new Error(`storage: settings: ${name}: names starting with '_' belong to the gateway`)
}

/** A value written by hand that is not JSON is kept as the text it is; the config schema judges it. */
function parse(value: string): unknown {
  try {
    return JSON.parse(value)
  } catch {
    return value
  }
}
