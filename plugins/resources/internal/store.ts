import type { Migration, PluginDatabase } from 'gemgate'
import type { Kind } from './names.ts'

/** Who made a resource: the key whose project holds it, and the client token that asked. */
export interface Binding {
  name: string
  kind: Kind
  keyId: string
  tokenId: string
  createdAt: number
  /** Epoch ms after which the resource (and so its record) is gone; null: until deleted. */
  expiresAt: number | null
  /** The resource as Google last answered it (JSON), what the lists answer. */
  body: string | null
}

/** A resumable upload the gateway started: where its bytes go stays here, the client only ever sees the id. */
export interface UploadSession {
  id: string
  keyId: string
  tokenId: string
  /** Google's upload URL. Never given to the client. */
  upstreamUrl: string
  /** The size the start declared (X-Goog-Upload-Header-Content-Length), when it did. */
  declaredBytes: number | null
  expiresAt: number
}

const MYSQL_TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci'

export const MIGRATIONS: readonly Migration[] = [
  {
    id: '001_bindings',
    up: {
      sqlite: [
        `CREATE TABLE IF NOT EXISTS resource_bindings (
          name TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          key_id TEXT NOT NULL,
          token_id TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          expires_at INTEGER NULL,
          body TEXT NULL
        )`,
        'CREATE INDEX IF NOT EXISTS idx_resource_bindings_list ON resource_bindings (kind, token_id, created_at)',
        'CREATE INDEX IF NOT EXISTS idx_resource_bindings_expiry ON resource_bindings (expires_at)',
      ],
      mysql: [
        `CREATE TABLE IF NOT EXISTS resource_bindings (
          name VARCHAR(255) NOT NULL,
          kind VARCHAR(32) NOT NULL,
          key_id VARCHAR(128) NOT NULL,
          token_id VARCHAR(128) NOT NULL,
          created_at BIGINT NOT NULL,
          expires_at BIGINT NULL,
          body MEDIUMTEXT NULL,
          PRIMARY KEY (name),
          INDEX idx_resource_bindings_list (kind, token_id, created_at),
          INDEX idx_resource_bindings_expiry (expires_at)
        ) ${MYSQL_TABLE}`,
      ],
    },
  },
  {
    id: '002_uploads',
    up: {
      sqlite: [
        `CREATE TABLE IF NOT EXISTS resource_uploads (
          id TEXT PRIMARY KEY,
          key_id TEXT NOT NULL,
          token_id TEXT NOT NULL,
          upstream_url TEXT NOT NULL,
          declared_bytes INTEGER NULL,
          expires_at INTEGER NOT NULL
        )`,
      ],
      mysql: [
        `CREATE TABLE IF NOT EXISTS resource_uploads (
          id VARCHAR(64) NOT NULL,
          key_id VARCHAR(128) NOT NULL,
          token_id VARCHAR(128) NOT NULL,
          upstream_url VARCHAR(4096) NOT NULL,
          declared_bytes BIGINT NULL,
          expires_at BIGINT NOT NULL,
          PRIMARY KEY (id),
          INDEX idx_resource_uploads_expiry (expires_at)
        ) ${MYSQL_TABLE}`,
      ],
    },
  },
]

/** A stored body past this is kept without its bulky parts (a batch's inline answers): lists need the rest only. */
const MAX_BODY_CHARS = 64 * 1024

type Row = Record<string, unknown>

export interface ResourceStore {
  /** Records a new resource, or takes over the record of one with the same name (Google never reuses names). */
  bind(binding: Binding): Promise<void>
  /** The resource's latest answer and expiry (a get, a patch). */
  refresh(name: string, body: string, expiresAt: number | null): Promise<void>
  find(name: string, now: number): Promise<Binding | undefined>
  /** One page of the live resources of a kind, oldest first; of one client token's only when `tokenId` is given. */
  list(kind: Kind, tokenId: string | undefined, offset: number, limit: number, now: number): Promise<Binding[]>
  forget(name: string): Promise<void>
  openUpload(session: UploadSession): Promise<void>
  findUpload(id: string, now: number): Promise<UploadSession | undefined>
  touchUpload(id: string, expiresAt: number): Promise<void>
  closeUpload(id: string): Promise<void>
  /** Deletes expired records and upload sessions; returns how many records went. */
  cleanup(now: number): Promise<number>
}

/** The bindings in the gateway's database (SQLite or MySQL); every call waits for the migrations first. */
export function createResourceStore(database: PluginDatabase, ready: Promise<void>): ResourceStore {
  const db = () => ready.then(() => database.db)
  // REPLACE: the same statement on SQLite and MySQL.
  const upsert = 'REPLACE INTO resource_bindings (name, kind, key_id, token_id, created_at, expires_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)'
  return {
    async bind(binding) {
      await (
        await db()
      )
        .prepare(upsert)
        .run(binding.name, binding.kind, binding.keyId, binding.tokenId, binding.createdAt, binding.expiresAt, storedBody(binding.body))
    },
    async refresh(name, body, expiresAt) {
      await (await db()).prepare('UPDATE resource_bindings SET body = ?, expires_at = ? WHERE name = ?').run(storedBody(body), expiresAt, name)
    },
    async find(name, now) {
      const row = (await (await db()).prepare('SELECT * FROM resource_bindings WHERE name = ?').get(name)) as Row | undefined
      const binding = row && bindingOf(row)
      return binding && (binding.expiresAt === null || binding.expiresAt > now) ? binding : undefined
    },
    async list(kind, tokenId, offset, limit, now) {
      const mine = tokenId === undefined ? '' : ' AND token_id = ?'
      const sql = `SELECT * FROM resource_bindings WHERE kind = ?${mine} AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at, name LIMIT ${Math.floor(limit)} OFFSET ${Math.floor(offset)}`
      const args = tokenId === undefined ? [kind, now] : [kind, tokenId, now]
      return ((await (await db()).prepare(sql).all(...args)) as Row[]).map(bindingOf)
    },
    async forget(name) {
      await (await db()).prepare('DELETE FROM resource_bindings WHERE name = ?').run(name)
    },
    async openUpload(session) {
      await (
        await db()
      )
        .prepare('INSERT INTO resource_uploads (id, key_id, token_id, upstream_url, declared_bytes, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(session.id, session.keyId, session.tokenId, session.upstreamUrl, session.declaredBytes, session.expiresAt)
    },
    async findUpload(id, now) {
      const row = (await (await db()).prepare('SELECT * FROM resource_uploads WHERE id = ?').get(id)) as Row | undefined
      if (!row || Number(row.expires_at) <= now) return undefined
      return {
        id: String(row.id),
        keyId: String(row.key_id),
        tokenId: String(row.token_id),
        upstreamUrl: String(row.upstream_url),
        declaredBytes: row.declared_bytes === null ? null : Number(row.declared_bytes),
        expiresAt: Number(row.expires_at),
      }
    },
    async touchUpload(id, expiresAt) {
      await (await db()).prepare('UPDATE resource_uploads SET expires_at = ? WHERE id = ?').run(expiresAt, id)
    },
    async closeUpload(id) {
      await (await db()).prepare('DELETE FROM resource_uploads WHERE id = ?').run(id)
    },
    async cleanup(now) {
      const connection = await db()
      const result = (await connection.prepare('DELETE FROM resource_bindings WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now)) as {
        changes?: number
        affectedRows?: number
      }
      await connection.prepare('DELETE FROM resource_uploads WHERE expires_at <= ?').run(now)
      return Number(result.changes ?? result.affectedRows ?? 0)
    },
  }
}

function bindingOf(row: Row): Binding {
  return {
    name: String(row.name),
    kind: String(row.kind) as Kind,
    keyId: String(row.key_id),
    tokenId: String(row.token_id),
    createdAt: Number(row.created_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    body: row.body === null ? null : String(row.body),
  }
}

/** A body small enough for its row: past the cap, a batch's answers and an operation's result are left out. */
function storedBody(body: string | null): string | null {
  if (body === null || body.length <= MAX_BODY_CHARS) return body
  try {
    const value = JSON.parse(body) as Record<string, any>
    delete value.response
    if (value.metadata && typeof value.metadata === 'object') delete value.metadata.output
    const slim = JSON.stringify(value)
    return slim.length <= MAX_BODY_CHARS ? slim : null
  } catch {
    return null
  }
}
