// The admin token: AUTH_TOKEN (or ALLOWED_TOKENS' first, as in gemini-balance) when set; otherwise one made at the
// first start, printed once, and kept only as its SHA-256 in DATA_DIR.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface AdminTokenControl {
  /** Constant-time check of a presented admin token. */
  verify(token: string): boolean
  /** Changes whenever the admin token does: a session made under another fingerprint is over. Not secret-revealing. */
  readonly fingerprint: string
  /** Where the token comes from: 'env' (AUTH_TOKEN / ALLOWED_TOKENS), 'file' (gateway.config.ts) or 'generated'. */
  readonly source: 'env' | 'file' | 'generated'
  /** Where the SHA-256 of a generated token is kept (DATA_DIR/admin-token.sha256); undefined for a configured one. */
  readonly file?: string
  /**
   * Makes a new generated token (only when not set by the environment or the config file), keeps its hash, and
   * returns it: the one time it is shown. The fingerprint changes, so every session ends.
   */
  rotate(): Promise<string>
  /**
   * The token made at this start when none existed (nothing set: the first run), once; undefined after the first call
   * and whenever the token was not made now. The console prints it with its URL.
   */
  takeCreated(): string | undefined
}

/** Kept in DATA_DIR: the SHA-256 of a generated admin token, never the token. */
export const ADMIN_TOKEN_FILE = 'admin-token.sha256'

export interface AdminTokenOptions {
  /** AUTH_TOKEN, or ALLOWED_TOKENS' first (gemini-balance); undefined at a first run with nothing set. */
  config: { authToken?: string }
  layers: { env: { sources: ReadonlyMap<string, string> } }
  dataDir: string
}

export function createAdminToken(options: AdminTokenOptions): AdminTokenControl {
  const configured = options.config.authToken
  const fromEnv = options.layers.env.sources.has('authToken') || options.layers.env.sources.has('allowedTokens')
  const source: AdminTokenControl['source'] = configured === undefined ? 'generated' : fromEnv ? 'env' : 'file'
  const file = join(options.dataDir, ADMIN_TOKEN_FILE)
  let digest: Buffer | undefined = configured === undefined ? undefined : sha256(configured)
  let created: string | undefined

  /** The generated token's digest, made (and its token kept for takeCreated) when there is none yet. */
  const generated = (): Buffer => {
    if (digest) return digest
    try {
      digest = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex')
      if (digest.length === 32) return digest
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    return replace()
  }
  const replace = (): Buffer => {
    created = `gg-admin-${randomBytes(24).toString('base64url')}`
    digest = sha256(created)
    mkdirSync(options.dataDir, { recursive: true })
    writeFileSync(file, `${digest.toString('hex')}\n`, { mode: 0o600 })
    return digest
  }
  return {
    source,
    ...(source === 'generated' ? { file } : {}),
    verify: (token) => timingSafeEqual(sha256(token), generated()),
    get fingerprint() {
      return createHash('sha256').update('gemgate admin token fingerprint\0').update(generated()).digest('hex').slice(0, 16)
    },
    async rotate() {
      if (source !== 'generated')
        throw new Error(`the admin token is set by ${source === 'env' ? 'AUTH_TOKEN in the environment' : 'gateway.config.ts'}: change it there`)
      replace()
      const token = created!
      created = undefined
      return token
    },
    takeCreated() {
      generated()
      const token = created
      created = undefined
      return token
    },
  }
}

const sha256 = (value: string) => createHash('sha256').update(value).digest()
