// Client tokens created in the console (TokenStore in queries.ts): the token's SHA-256 and a masked label, never
// the token itself, which is shown once when it is made. Limits live in client_token_limits, a row per token that has any.
import type { GatewayDatabase } from './db.ts'
import { chunks, createRunner, num, placeholders, type StoreOptions } from './internal/sql.ts'
import type { Statement } from './internal/transaction.ts'
import type { ClientLimits, StoredToken, TokenStore } from './queries.ts'

const BATCH = 500
/** Counts past this are typos; it keeps every total a safe integer. */
const MAX_COUNT = 1e15
const MAX_MODELS = 100
const MODEL_MAX = 191

interface TokenRow {
  id: string
  name: string
  sha256: string
  label: string
  enabled: unknown
  created_at: unknown
  models: string | null
  rpm: unknown
  rpd: unknown
  tokens_per_day: unknown
  tokens_per_month: unknown
  expires_at: unknown
}

const COUNTS = [
  ['rpm', 'rpm'],
  ['rpd', 'rpd'],
  ['tokensPerDay', 'tokens_per_day'],
  ['tokensPerMonth', 'tokens_per_month'],
] as const

export function createTokenStore(database: GatewayDatabase, options: StoreOptions = {}): TokenStore {
  const runner = createRunner(database, 'tokens', options)
  return {
    async list() {
      const rows = await runner.all<TokenRow>(
        'list tokens',
        `SELECT t.id, t.name, t.sha256, t.label, t.enabled, t.created_at, l.models, l.rpm, l.rpd, l.tokens_per_day, l.tokens_per_month, l.expires_at
         FROM client_tokens t LEFT JOIN client_token_limits l ON l.token_id = t.id ORDER BY t.created_at, t.id`,
      )
      return rows.map((row) => {
        const token: StoredToken = {
          id: row.id,
          name: row.name,
          sha256: row.sha256,
          label: row.label,
          enabled: num(row.enabled) !== 0,
          createdAt: num(row.created_at),
        }
        const limits = limitsOf(row)
        if (limits) token.limits = limits
        return token
      })
    },

    async add(token) {
      const { id, name, label, enabled, createdAt } = token
      const sha256 = typeof token.sha256 === 'string' ? token.sha256.toLowerCase() : ''
      if (!text(id, 128) || !text(name, 191) || !text(label, 128))
        throw new Error('storage: tokens: id, name and label must be non-empty (128, 191 and 128 characters at most)')
      if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('storage: tokens: sha256 must be 64 hex digits')
      if (typeof enabled !== 'boolean' || !Number.isSafeInteger(createdAt)) throw new Error('storage: tokens: enabled must be a boolean and createdAt epoch ms')
      const limits = limitStatements(id, token.limits ?? {})
      const clash = await runner.get('add a token', 'SELECT id FROM client_tokens WHERE id = ? OR sha256 = ?', [id, sha256])
      if (clash) throw new Error('storage: tokens: a token with this id or hash is stored already')
      await runner.transaction('add a token', [
        {
          sql: 'INSERT INTO client_tokens (id, name, sha256, label, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          params: [id, name, sha256, label, enabled ? 1 : 0, createdAt],
        },
        ...limits,
      ])
    },

    async remove(ids) {
      if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw new Error('storage: tokens: ids must be strings')
      let removed = 0
      for (const batch of chunks([...new Set(ids)], BATCH)) {
        removed += await runner.run('remove tokens', `DELETE FROM client_tokens WHERE id IN (${placeholders(batch.length)})`, batch)
        // After the tokens: limits left behind by a failure here bind nothing (a removed token is never made again).
        await runner.run('remove token limits', `DELETE FROM client_token_limits WHERE token_id IN (${placeholders(batch.length)})`, batch)
      }
      return removed
    },

    async setEnabled(id, enabled) {
      if (typeof enabled !== 'boolean') throw new Error('storage: tokens: enabled must be a boolean')
      // Compared rather than counted: MySQL reports an UPDATE that changes nothing as 0 rows.
      const row = await runner.get<{ enabled: unknown }>('enable or disable a token', 'SELECT enabled FROM client_tokens WHERE id = ?', [id])
      if (!row) return false
      if ((num(row.enabled) !== 0) !== enabled)
        await runner.run('enable or disable a token', 'UPDATE client_tokens SET enabled = ? WHERE id = ?', [enabled ? 1 : 0, id])
      return true
    },

    async setLimits(id, limits) {
      const statements = limitStatements(id, limits)
      const row = await runner.get('set token limits', 'SELECT id FROM client_tokens WHERE id = ?', [id])
      if (!row) return false
      await runner.transaction('set token limits', statements)
      return true
    },
  }
}

/** The statements that replace a token's limits row (none is kept when it has no limit); throws on a bad value. */
function limitStatements(id: string, limits: ClientLimits): Statement[] {
  checkLimits(limits)
  const remove: Statement = { sql: 'DELETE FROM client_token_limits WHERE token_id = ?', params: [id] }
  const models = limits.models?.length ? JSON.stringify(limits.models) : null
  const values = [models, ...COUNTS.map(([field]) => limits[field] ?? null), limits.expiresAt ?? null]
  if (values.every((value) => value === null)) return [remove]
  return [
    remove,
    {
      sql: 'INSERT INTO client_token_limits (token_id, models, rpm, rpd, tokens_per_day, tokens_per_month, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      params: [id, ...values],
    },
  ]
}

function checkLimits(limits: ClientLimits): void {
  if (typeof limits !== 'object' || limits === null) throw new Error('storage: tokens: limits must be an object')
  const { models, expiresAt } = limits
  if (models !== undefined && !(Array.isArray(models) && models.length <= MAX_MODELS && models.every((model) => text(model, MODEL_MAX))))
    throw new Error(`storage: tokens: models must be at most ${MAX_MODELS} names of 1 to ${MODEL_MAX} characters`)
  for (const [field] of COUNTS) {
    const value = limits[field]
    if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= MAX_COUNT))
      throw new Error(`storage: tokens: ${field} must be a whole number from 1 to ${MAX_COUNT}`)
  }
  if (expiresAt !== undefined && !(Number.isSafeInteger(expiresAt) && expiresAt >= 0)) throw new Error('storage: tokens: expiresAt must be epoch ms')
}

/** The limits of a row of the join, or undefined when it has none. */
function limitsOf(row: TokenRow): ClientLimits | undefined {
  const limits: ClientLimits = {}
  const models = row.models ? (JSON.parse(row.models) as string[]) : []
  if (models.length > 0) limits.models = models
  for (const [field, column] of COUNTS) if (row[column] !== null && row[column] !== undefined) limits[field] = num(row[column])
  if (row.expires_at !== null && row.expires_at !== undefined) limits.expiresAt = num(row.expires_at)
  return Object.keys(limits).length > 0 ? limits : undefined
}

const text = (value: unknown, max: number) => typeof value === 'string' && value !== '' && value.length <= max
