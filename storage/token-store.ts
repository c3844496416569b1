// Client tokens created in the console (TokenStore in queries.ts): the token's SHA-256 and a masked label, never
// the token itself, which is shown once when it is made.
import type { GatewayDatabase } from './db.ts'
import { chunks, createRunner, num, placeholders, type StoreOptions } from './internal/sql.ts'
import type { StoredToken, TokenStore } from './queries.ts'

const BATCH = 500

interface TokenRow {
  id: string
  name: string
  sha256: string
  label: string
  enabled: unknown
  created_at: unknown
}

export function createTokenStore(database: GatewayDatabase, options: StoreOptions = {}): TokenStore {
  const runner = createRunner(database, 'tokens', options)
  return {
    async list() {
      const rows = await runner.all<TokenRow>('list tokens', 'SELECT id, name, sha256, label, enabled, created_at FROM client_tokens ORDER BY created_at, id')
      return rows.map((row): StoredToken => ({
        id: row.id,
        name: row.name,
        sha256: row.sha256,
        label: row.label,
        enabled: num(row.enabled) !== 0,
        createdAt: num(row.created_at),
      }))
    },

    async add(token) {
      const { id, name, label, enabled, createdAt } = token
      const sha256 = typeof token.sha256 === 'string' ? token.sha256.toLowerCase() : ''
      if (!text(id, 128) || !text(name, 191) || !text(label, 128))
        throw new Error('storage: tokens: id, name and label must be non-empty (128, 191 and 128 characters at most)')
      if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('storage: tokens: sha256 must be 64 hex digits')
      if (typeof enabled !== 'boolean' || !Number.isSafeInteger(createdAt)) throw new Error('storage: tokens: enabled must be a boolean and createdAt epoch ms')
      const clash = await runner.get('add a token', 'SELECT id FROM client_tokens WHERE id = ? OR sha256 = ?', [id, sha256])
      if (clash) throw new Error('storage: tokens: a token with this id or hash is stored already')
      await runner.run('add a token', 'INSERT INTO client_tokens (id, name, sha256, label, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
        id,
        name,
        sha256,
        label,
        enabled ? 1 : 0,
        createdAt,
      ])
    },

    async remove(ids) {
      if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw new Error('storage: tokens: ids must be strings')
      let removed = 0
      for (const batch of chunks([...new Set(ids)], BATCH)) {
        removed += await runner.run('remove tokens', `DELETE FROM client_tokens WHERE id IN (${placeholders(batch.length)})`, batch)
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
  }
}

const text = (value: unknown, max: number) => typeof value === 'string' && value !== '' && value.length <= max
