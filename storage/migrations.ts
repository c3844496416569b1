// Ordered, versioned schema migrations. Each one has per-dialect statements, written so that running it again
// (or from two instances at once) is harmless: CREATE ... IF NOT EXISTS, and the id is recorded with INSERT-or-ignore.
// Never edit a migration that has shipped; add a new one. MySQL commits each DDL statement on its own, so a
// migration that fails halfway is not rolled back: keep one DDL per migration when it matters.
import type { GatewayDatabase } from './db.ts'

export interface Migration {
  id: string
  up: { sqlite: string[]; mysql: string[] }
}

const MYSQL_TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci'

// Column sizes are also enforced by the log writer (it truncates), so a long value can never poison a batch.
export const MIGRATIONS: readonly Migration[] = [
  {
    id: '001_request_logs',
    up: {
      sqlite: [
        `CREATE TABLE IF NOT EXISTS request_logs (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          time INTEGER NOT NULL,
          request_id TEXT NOT NULL,
          token_id TEXT NOT NULL,
          dialect TEXT NOT NULL,
          operation TEXT NOT NULL,
          model TEXT NOT NULL,
          key_id TEXT NOT NULL,
          attempt INTEGER NOT NULL,
          status INTEGER NULL,
          failure_class TEXT NOT NULL,
          latency_ms INTEGER NOT NULL,
          prompt_tokens INTEGER NULL,
          completion_tokens INTEGER NULL,
          thinking_tokens INTEGER NULL,
          total_tokens INTEGER NULL
        )`,
        'CREATE INDEX IF NOT EXISTS idx_request_logs_time ON request_logs (time)',
        'CREATE INDEX IF NOT EXISTS idx_request_logs_key_time ON request_logs (key_id, time)',
      ],
      mysql: [
        `CREATE TABLE IF NOT EXISTS request_logs (
          id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
          time BIGINT NOT NULL,
          request_id VARCHAR(128) NOT NULL,
          token_id VARCHAR(128) NOT NULL,
          dialect VARCHAR(32) NOT NULL,
          operation VARCHAR(64) NOT NULL,
          model VARCHAR(191) NOT NULL,
          key_id VARCHAR(128) NOT NULL,
          attempt INT NOT NULL,
          status INT NULL,
          failure_class VARCHAR(64) NOT NULL,
          latency_ms INT NOT NULL,
          prompt_tokens INT NULL,
          completion_tokens INT NULL,
          thinking_tokens INT NULL,
          total_tokens INT NULL,
          PRIMARY KEY (id),
          INDEX idx_request_logs_time (time),
          INDEX idx_request_logs_key_time (key_id, time)
        ) ${MYSQL_TABLE}`,
      ],
    },
  },
  {
    id: '002_error_logs',
    up: {
      sqlite: [
        `CREATE TABLE IF NOT EXISTS error_logs (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          time INTEGER NOT NULL,
          request_id TEXT NOT NULL,
          token_id TEXT NOT NULL,
          key_id TEXT NOT NULL,
          model TEXT NOT NULL,
          operation TEXT NOT NULL,
          status INTEGER NULL,
          failure_class TEXT NOT NULL,
          error_body TEXT NOT NULL,
          request_body TEXT NULL
        )`,
        'CREATE INDEX IF NOT EXISTS idx_error_logs_time ON error_logs (time)',
      ],
      mysql: [
        `CREATE TABLE IF NOT EXISTS error_logs (
          id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
          time BIGINT NOT NULL,
          request_id VARCHAR(128) NOT NULL,
          token_id VARCHAR(128) NOT NULL,
          key_id VARCHAR(128) NOT NULL,
          model VARCHAR(191) NOT NULL,
          operation VARCHAR(64) NOT NULL,
          status INT NULL,
          failure_class VARCHAR(64) NOT NULL,
          error_body MEDIUMTEXT NOT NULL,
          request_body MEDIUMTEXT NULL,
          PRIMARY KEY (id),
          INDEX idx_error_logs_time (time)
        ) ${MYSQL_TABLE}`,
      ],
    },
  },
  {
    id: '003_settings',
    up: {
      sqlite: [
        `CREATE TABLE IF NOT EXISTS settings (
          name VARCHAR(191) NOT NULL PRIMARY KEY,
          value TEXT NULL,
          updated_at INTEGER NOT NULL
        )`,
      ],
      mysql: [
        `CREATE TABLE IF NOT EXISTS settings (
          name VARCHAR(191) NOT NULL,
          value TEXT NULL,
          updated_at BIGINT NOT NULL,
          PRIMARY KEY (name)
        ) ${MYSQL_TABLE}`,
      ],
    },
  },
]

const CREATE_MIGRATIONS_TABLE = {
  sqlite: 'CREATE TABLE IF NOT EXISTS _migrations (id VARCHAR(191) NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)',
  mysql: `CREATE TABLE IF NOT EXISTS _migrations (id VARCHAR(191) NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (id)) ${MYSQL_TABLE}`,
} as const

const RECORD_MIGRATION = {
  sqlite: 'INSERT OR IGNORE INTO _migrations (id, applied_at) VALUES (?, ?)',
  mysql: 'INSERT IGNORE INTO _migrations (id, applied_at) VALUES (?, ?)',
} as const

/** Applies the migrations not yet recorded in `_migrations`, in order, and returns the ids it applied. */
export async function migrate(database: GatewayDatabase, migrations: readonly Migration[] = MIGRATIONS): Promise<string[]> {
  const { db, dialect } = database
  await db.exec(CREATE_MIGRATIONS_TABLE[dialect])
  const rows = (await db.prepare('SELECT id FROM _migrations').all()) as Array<{ id: string }>
  const done = new Set(rows.map((row) => row.id))
  const applied: string[] = []
  for (const migration of migrations) {
    if (done.has(migration.id)) continue
    try {
      for (const statement of migration.up[dialect]) await db.exec(statement)
      await db.prepare(RECORD_MIGRATION[dialect]).run(migration.id, Date.now())
    } catch (error) {
      throw new Error(`storage: migration ${migration.id} failed on ${dialect}: ${(error as Error).message}`, { cause: error })
    }
    applied.push(migration.id)
  }
  return applied
}
