// Keys the operator pasted in the console (KeyStore in queries.ts), per pool. The secret is stored as given (the
// gateway needs it to call Google); uniqueness rides on its SHA-256, since a MySQL index cannot hold a TEXT column.
import { createHash } from 'node:crypto'
import type { GatewayDatabase } from './db.ts'
import { chunks, createRunner, num, placeholders, type StoreOptions } from './internal/sql.ts'
import type { KeyStore, StoredKey } from './queries.ts'

const POOL_MAX = 64
const SECRET_MAX = 4096
const BATCH = 500

export function createKeyStore(database: GatewayDatabase, options: StoreOptions = {}): KeyStore {
  const runner = createRunner(database, 'keys', options)
  const ignoreDuplicate = runner.dialect === 'sqlite' ? 'ON CONFLICT (pool, secret_sha256) DO NOTHING' : 'ON DUPLICATE KEY UPDATE id = id'

  async function stored(pool: string, hashes: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>()
    for (const batch of chunks(hashes, BATCH)) {
      const rows = await runner.all<{ secret_sha256: string }>(
        'look up keys',
        `SELECT secret_sha256 FROM api_keys WHERE pool = ? AND secret_sha256 IN (${placeholders(batch.length)})`,
        [pool, ...batch],
      )
      for (const row of rows) found.add(row.secret_sha256)
    }
    return found
  }

  return {
    async list() {
      const rows = await runner.all<{ pool: string; secret: string; added_at: unknown }>('list keys', 'SELECT pool, secret, added_at FROM api_keys ORDER BY id')
      return rows.map((row): StoredKey => ({ pool: row.pool, secret: row.secret, addedAt: num(row.added_at) }))
    },

    async add(pool, secrets) {
      checkPool(pool)
      const unique = [...new Set(checkSecrets(secrets))]
      const known = await stored(pool, unique.map(sha256))
      const fresh = unique.filter((secret) => !known.has(sha256(secret)))
      const addedAt = Date.now()
      for (const batch of chunks(fresh, BATCH)) {
        await runner.run(
          'add keys',
          `INSERT INTO api_keys (pool, secret, secret_sha256, added_at) VALUES ${batch.map(() => '(?, ?, ?, ?)').join(', ')} ${ignoreDuplicate}`,
          batch.flatMap((secret) => [pool, secret, sha256(secret), addedAt]),
        )
      }
      return fresh.map((secret): StoredKey => ({ pool, secret, addedAt }))
    },

    async remove(pool, secrets) {
      checkPool(pool)
      let removed = 0
      for (const batch of chunks([...new Set(checkSecrets(secrets).map(sha256))], BATCH)) {
        removed += await runner.run('remove keys', `DELETE FROM api_keys WHERE pool = ? AND secret_sha256 IN (${placeholders(batch.length)})`, [pool, ...batch])
      }
      return removed
    },
  }
}

const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex')

function checkPool(pool: string): void {
  if (typeof pool !== 'string' || pool === '' || pool.length > POOL_MAX) throw new Error(`storage: keys: a pool name is 1 to ${POOL_MAX} characters`)
}

function checkSecrets(secrets: readonly string[]): readonly string[] {
  if (!Array.isArray(secrets) || !secrets.every((secret) => typeof secret === 'string' && secret !== '' && secret.length <= SECRET_MAX)) {
    throw new Error(`storage: keys: every key must be a string of 1 to ${SECRET_MAX} characters`)
  }
  return secrets
}
