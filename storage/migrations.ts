// Ordered, versioned schema migrations. Each one has per-dialect statements, written so that running it again
// (or from two instances at once) is harmless: CREATE ... IF NOT EXISTS, and the id is recorded with INSERT-or-ignore.
// Never edit a migration that has shipped; add a new one. MySQL commits each DDL statement on its own, so a
// migration that fails halfway is not rolled back: keep one DDL per migration when it matters.
import type { GatewayDatabase } from './db.ts'
import { rollupBackfill, rollupMeasures } from './internal/rollup-schema.ts'

export interface Migration {
  id: string
  up: { sqlite: string[]; mysql: string[] }
}

const MYSQL_TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci'
const MYSQL_ROLLUP_TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin'

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
  // Statistics rollups (storage/rollups.ts): per hour by key x model x client token x failure class, and per UTC day
  // without the key (a month of totals stays a few thousand rows however many keys rotate). The log writer upserts
  // both in the transaction that inserts the request rows. Text is compared byte for byte (utf8mb4_bin), as SQLite
  // does, so both group alike. Existing request logs are rolled up once, when the table is still empty.
  {
    id: '004_stats_hourly',
    up: {
      sqlite: [
        `CREATE TABLE IF NOT EXISTS stats_hourly (
          hour INTEGER NOT NULL, key_id TEXT NOT NULL, model TEXT NOT NULL, token_id TEXT NOT NULL, failure_class TEXT NOT NULL,
          ${rollupMeasures('INTEGER')},
          PRIMARY KEY (hour, key_id, model, token_id, failure_class)
        ) WITHOUT ROWID`,
        'CREATE INDEX IF NOT EXISTS idx_stats_hourly_key ON stats_hourly (key_id, hour)',
        rollupBackfill('stats_hourly', 'hour', 3_600_000, ['key_id', 'model', 'token_id', 'failure_class']),
      ],
      mysql: [
        `CREATE TABLE IF NOT EXISTS stats_hourly (
          hour BIGINT NOT NULL, key_id VARCHAR(128) NOT NULL, model VARCHAR(191) NOT NULL, token_id VARCHAR(128) NOT NULL, failure_class VARCHAR(64) NOT NULL,
          ${rollupMeasures('BIGINT')},
          PRIMARY KEY (hour, key_id, model, token_id, failure_class),
          INDEX idx_stats_hourly_key (key_id, hour)
        ) ${MYSQL_ROLLUP_TABLE}`,
        rollupBackfill('stats_hourly', 'hour', 3_600_000, ['key_id', 'model', 'token_id', 'failure_class']),
      ],
    },
  },
  {
    id: '005_stats_daily',
    up: {
      sqlite: [
        `CREATE TABLE IF NOT EXISTS stats_daily (
          day INTEGER NOT NULL, model TEXT NOT NULL, token_id TEXT NOT NULL, failure_class TEXT NOT NULL,
          ${rollupMeasures('INTEGER')},
          PRIMARY KEY (day, model, token_id, failure_class)
        ) WITHOUT ROWID`,
        rollupBackfill('stats_daily', 'day', 86_400_000, ['model', 'token_id', 'failure_class']),
      ],
      mysql: [
        `CREATE TABLE IF NOT EXISTS stats_daily (
          day BIGINT NOT NULL, model VARCHAR(191) NOT NULL, token_id VARCHAR(128) NOT NULL, failure_class VARCHAR(64) NOT NULL,
          ${rollupMeasures('BIGINT')},
          PRIMARY KEY (day, model, token_id, failure_class)
        ) ${MYSQL_ROLLUP_TABLE}`,
        rollupBackfill('stats_daily', 'day', 86_400_000, ['model', 'token_id', 'failure_class']),
      ],
    },
  },
  // Keys pasted in the console. The secret's SHA-256 carries the uniqueness: a MySQL index cannot hold a TEXT column.
  {
    id: '006_api_keys',
    up: {
      sqlite: [
        `CREATE TABLE IF NOT EXISTS api_keys (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          pool TEXT NOT NULL,
          secret TEXT NOT NULL,
          secret_sha256 TEXT NOT NULL,
          added_at INTEGER NOT NULL
        )`,
        'CREATE UNIQUE INDEX IF NOT EXISTS idx_api_keys_pool_secret ON api_keys (pool, secret_sha256)',
      ],
      mysql: [
        `CREATE TABLE IF NOT EXISTS api_keys (
          id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
          pool VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
          secret TEXT COLLATE utf8mb4_bin NOT NULL,
          secret_sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
          added_at BIGINT NOT NULL,
          PRIMARY KEY (id),
          UNIQUE INDEX idx_api_keys_pool_secret (pool, secret_sha256)
        ) ${MYSQL_TABLE}`,
      ],
    },
  },
  // Client tokens created in the console: the SHA-256 of the token, never the token.
  {
    id: '007_client_tokens',
    up: {
      sqlite: [
        `CREATE TABLE IF NOT EXISTS client_tokens (
          id TEXT NOT NULL PRIMARY KEY,
          name TEXT NOT NULL,
          sha256 TEXT NOT NULL UNIQUE,
          label TEXT NOT NULL,
          enabled INTEGER NOT NULL,
          created_at INTEGER NOT NULL
        )`,
      ],
      mysql: [
        `CREATE TABLE IF NOT EXISTS client_tokens (
          id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
          name VARCHAR(191) NOT NULL,
          sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
          label VARCHAR(128) NOT NULL,
          enabled TINYINT NOT NULL,
          created_at BIGINT NOT NULL,
          PRIMARY KEY (id),
          UNIQUE INDEX idx_client_tokens_sha256 (sha256)
        ) ${MYSQL_TABLE}`,
      ],
    },
  },
  // The console's log pages: a request's rows and its error row by request id, a key's latest errors.
  {
    id: '008_log_lookup_indexes',
    up: {
      sqlite: [
        'CREATE INDEX IF NOT EXISTS idx_request_logs_request ON request_logs (request_id)',
        'CREATE INDEX IF NOT EXISTS idx_error_logs_request ON error_logs (request_id)',
        'CREATE INDEX IF NOT EXISTS idx_error_logs_key ON error_logs (key_id)',
      ],
      mysql: [
        'CREATE INDEX idx_request_logs_request ON request_logs (request_id)',
        'CREATE INDEX idx_error_logs_request ON error_logs (request_id)',
        'CREATE INDEX idx_error_logs_key ON error_logs (key_id)',
      ],
    },
  },
  // Limits of console-created client tokens (issue #11), in a table of their own: a CREATE TABLE IF NOT EXISTS is
  // harmless to run again or from two instances at once, where an ALTER TABLE ADD COLUMN is not. A row exists only for
  // a token with limits; `models` is a JSON array.
  {
    id: '009_client_token_limits',
    up: {
      sqlite: [
        `CREATE TABLE IF NOT EXISTS client_token_limits (
          token_id TEXT NOT NULL PRIMARY KEY,
          models TEXT NULL,
          rpm INTEGER NULL,
          rpd INTEGER NULL,
          tokens_per_day INTEGER NULL,
          tokens_per_month INTEGER NULL,
          expires_at INTEGER NULL
        )`,
      ],
      mysql: [
        `CREATE TABLE IF NOT EXISTS client_token_limits (
          token_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
          models TEXT NULL,
          rpm BIGINT NULL,
          rpd BIGINT NULL,
          tokens_per_day BIGINT NULL,
          tokens_per_month BIGINT NULL,
          expires_at BIGINT NULL,
          PRIMARY KEY (token_id)
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

/**
 * MySQL has no CREATE INDEX IF NOT EXISTS (MariaDB has): an index already there (ER_DUP_KEYNAME, left by a run that
 * stopped before recording its id, or by another instance) counts as created.
 */
function ignoreExistingIndex(error: unknown): void {
  if ((error as { errno?: unknown } | null)?.errno !== 1061) throw error
}

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
      for (const statement of migration.up[dialect]) await db.exec(statement).catch(ignoreExistingIndex)
      await db.prepare(RECORD_MIGRATION[dialect]).run(migration.id, Date.now())
    } catch (error) {
      throw new Error(`storage: migration ${migration.id} failed on ${dialect}: ${(error as Error).message}`, { cause: error })
    }
    applied.push(migration.id)
  }
  return applied
}
