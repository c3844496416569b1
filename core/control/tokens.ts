// Client tokens: the ones from ALLOWED_TOKENS / AUTH_TOKEN / gateway.config.ts, and the ones created in the console
// (stored as SHA-256 only, shown once).
import { randomBytes } from 'node:crypto'
import type { TokenStore } from '../../storage/queries.ts'
import type { ResolvedConfig } from '../config/schema.ts'
import { maskSecret, type IdOf } from '../identity.ts'
import { sha256 } from '../stages/auth.ts'

export interface TokenView {
  id: string
  /** An operator's name for it ('ALLOWED_TOKENS #2' for configured ones). */
  name: string
  /** Masked. */
  label: string
  source: 'config' | 'console'
  enabled: boolean
  createdAt?: number
}

export interface TokenControl {
  list(): Promise<TokenView[]>
  /** Creates a token (`sk-` + 48 random characters); the only time it is ever returned. Applies at once. */
  create(name: string): Promise<{ view: TokenView; token: string }>
  /** Console-created tokens only; configured ones are refused (listed in `refused`). */
  remove(ids: readonly string[]): Promise<{ removed: string[]; refused: string[] }>
  setEnabled(id: string, enabled: boolean): Promise<boolean>
}

export interface TokenControlDeps {
  store: TokenStore
  /** The config serving now: its ALLOWED_TOKENS and AUTH_TOKEN are listed as configured tokens. */
  config: () => Pick<ResolvedConfig, 'allowedTokens'>
  idOf: IdOf
  /** Rebuilds the generation, so the authenticator knows the change. */
  reload: () => Promise<void>
}

export function createTokenControl(deps: TokenControlDeps): TokenControl {
  const configured = (): TokenView[] =>
    deps.config().allowedTokens.map((token, index) => ({
      id: deps.idOf(token),
      name: `ALLOWED_TOKENS #${index + 1}`,
      label: maskSecret(token),
      source: 'config',
      enabled: true,
    }))
  return {
    async list() {
      const stored = await deps.store.list()
      return [
        ...configured(),
        ...stored.map((token): TokenView => ({
          id: token.id,
          name: token.name,
          label: token.label,
          source: 'console',
          enabled: token.enabled,
          createdAt: token.createdAt,
        })),
      ]
    },
    async create(name) {
      const token = `sk-${randomBytes(36).toString('base64url')}`
      const stored = {
        id: deps.idOf(token),
        name: name.trim() || 'unnamed',
        sha256: sha256(token),
        label: maskSecret(token),
        enabled: true,
        createdAt: Date.now(),
      }
      await deps.store.add(stored)
      await deps.reload()
      return { token, view: { id: stored.id, name: stored.name, label: stored.label, source: 'console', enabled: true, createdAt: stored.createdAt } }
    },
    async remove(ids) {
      const fromConfig = new Set(configured().map((token) => token.id))
      const refused = ids.filter((id) => fromConfig.has(id))
      const removable = ids.filter((id) => !fromConfig.has(id))
      const stored = new Set((await deps.store.list()).map((token) => token.id))
      const removed = removable.filter((id) => stored.has(id))
      if (removed.length > 0) {
        await deps.store.remove(removed)
        await deps.reload()
      }
      return { removed, refused }
    },
    async setEnabled(id, enabled) {
      const changed = await deps.store.setEnabled(id, enabled)
      if (changed) await deps.reload()
      return changed
    },
  }
}
