// The deployment secret keys the ids of API keys and client tokens (an HMAC, see core/identity.ts). Every instance of
// one deployment must hold the same secret, since the ids key shared key state and rows in the logs; so it lives with
// the shared state: one row of `settings`, written by whichever instance comes first with an insert that loses no
// race, then read back. A copy in DATA_DIR lets a later start with the database down still compute the same ids.
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { GatewayDatabase } from './db.ts'

export interface DeploymentSecret {
  secret: string
  /** database: the shared one; cache: the copy in DATA_DIR (database down); ephemeral: this process only. */
  source: 'database' | 'cache' | 'ephemeral'
}

export interface DeploymentSecretOptions {
  /** Where the copy is kept (DATA_DIR). */
  dataDir: string
  logger?: { warn(...args: unknown[]): void; info(...args: unknown[]): void }
}

/** The settings row; names starting with '_' are the gateway's own, never operator settings. */
export const DEPLOYMENT_SECRET_SETTING = '_deployment_secret'
export const DEPLOYMENT_SECRET_FILE = 'deployment-secret'

const INSERT_IF_ABSENT = {
  sqlite: 'INSERT OR IGNORE INTO settings (name, value, updated_at) VALUES (?, ?, ?)',
  mysql: 'INSERT IGNORE INTO settings (name, value, updated_at) VALUES (?, ?, ?)',
} as const

/**
 * The shared secret when the database answers; else the copy in DATA_DIR; else a new one for this process only (with
 * a warning). A secret that did not come from the database is offered to it once it is reachable: if the database
 * held none, ours becomes the deployment's and nothing diverges; if it held another, this instance's ids differ from
 * the others' until it restarts, and that is said once.
 */
export async function obtainDeploymentSecret(database: GatewayDatabase, options: DeploymentSecretOptions): Promise<DeploymentSecret> {
  const logger = options.logger
  const cached = readCache(options.dataDir)
  if (database.isReady()) {
    try {
      const secret = await claim(database, cached ?? newSecret())
      if (secret !== cached) writeCache(options.dataDir, secret, logger)
      return { secret, source: 'database' }
    } catch (error) {
      logger?.warn(`reading the deployment secret from the database failed: ${(error as Error).message}`)
    }
  }
  const found: DeploymentSecret = cached ? { secret: cached, source: 'cache' } : { secret: newSecret(), source: 'ephemeral' }
  if (found.source === 'ephemeral') {
    logger?.warn(
      "no deployment secret (database unreachable, none cached in DATA_DIR): ids of keys and tokens in logs and shared key state differ from other instances' until the database is back",
    )
  }
  if (!database.isReady()) void offerWhenReachable(database, found, options)
  return found
}

async function offerWhenReachable(database: GatewayDatabase, found: DeploymentSecret, { dataDir, logger }: DeploymentSecretOptions): Promise<void> {
  try {
    await database.ready
    const shared = await claim(database, found.secret)
    if (shared !== found.secret) {
      logger?.warn("the database holds another deployment secret: ids of keys and tokens from this instance differ from the other instances' until it restarts")
    } else if (found.source === 'ephemeral') {
      writeCache(dataDir, shared, logger)
      logger?.info('deployment secret now stored in the database; ids agree across instances')
    }
  } catch (error) {
    logger?.warn(`storing the deployment secret in the database failed: ${(error as Error).message}`)
  }
}

/** Inserts `candidate` unless a secret is already stored, then returns the stored one. */
async function claim(database: GatewayDatabase, candidate: string): Promise<string> {
  await database.db.prepare(INSERT_IF_ABSENT[database.dialect]).run(DEPLOYMENT_SECRET_SETTING, candidate, Date.now())
  const row = (await database.db.prepare('SELECT value FROM settings WHERE name = ?').get(DEPLOYMENT_SECRET_SETTING)) as { value?: unknown } | undefined
  if (!isSecret(row?.value)) throw new Error(`the settings row ${DEPLOYMENT_SECRET_SETTING} does not hold a secret of 32+ characters`)
  return row.value
}

const newSecret = () => randomBytes(32).toString('hex')
const isSecret = (value: unknown): value is string => typeof value === 'string' && value.length >= 32

function readCache(dataDir: string): string | undefined {
  try {
    const value = readFileSync(join(dataDir, DEPLOYMENT_SECRET_FILE), 'utf8').trim()
    return isSecret(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** Written whole or not at all (temp file, then rename), readable by the owner only. */
function writeCache(dataDir: string, secret: string, logger: DeploymentSecretOptions['logger']): void {
  const target = join(dataDir, DEPLOYMENT_SECRET_FILE)
  const temp = `${target}.${process.pid}.tmp`
  try {
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(temp, `${secret}\n`, { mode: 0o600 })
    renameSync(temp, target)
  } catch (error) {
    logger?.warn(
      `could not keep a copy of the deployment secret in ${dataDir} (${(error as Error).message}); a start with the database down will compute other ids`,
    )
  }
}
