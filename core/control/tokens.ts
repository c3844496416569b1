// Client tokens: the ones from ALLOWED_TOKENS / AUTH_TOKEN / clientTokens in gateway.config.ts, and the ones created in
// the console (stored as SHA-256 only, shown once), with their limits.
import { randomBytes } from 'node:crypto'
import type { StatsQueries, TokenStore } from '../../storage/queries.ts'
import { pickLimits, utcDayAt, utcMonthAt, type ClientLimits } from '../clients/limits.ts'
import type { TokenRow, TokenView } from '../views.ts'
import type { ResolvedConfig } from '../config/schema.ts'
import { maskSecret, type IdOf } from '../identity.ts'
import { sha256 } from '../stages/auth.ts'

export type { TokenRow, TokenUsage, TokenView } from '../views.ts'

/** What the console does with client tokens. Every change applies at once, on every instance (a new generation). */
export interface TokenControl {
  /**
   * Every token with its use in the spans its budgets count in (the current UTC day and month), from the statistics
   * (which trail the counters by a log batch).
   */
  list(): Promise<TokenRow[]>
  /** Creates a token (`sk-` + 48 random characters) with these limits; the only time it is ever returned. */
  create(name: string, limits?: ClientLimits): Promise<{ view: TokenView; token: string }>
  /** Console-created tokens only; configured ones are refused (listed in `refused`). */
  remove(ids: readonly string[]): Promise<{ removed: string[]; refused: string[] }>
  /** Console-created tokens only: false when none has this id. */
  setEnabled(id: string, enabled: boolean): Promise<boolean>
  /**
   * Replaces a console-created token's limits (`{}` lifts them all; its counts so far stay); false when none has this
   * id. A configured token's limits are changed where they are set. Throws on a value out of bounds.
   */
  setLimits(id: string, limits: ClientLimits): Promise<boolean>
}

export interface TokenControlDeps {
  store: TokenStore
  /** The config serving now: its ALLOWED_TOKENS, AUTH_TOKEN and clientTokens are listed as configured tokens. */
  config: () => Pick<ResolvedConfig, 'allowedTokens' | 'clientTokens'>
  idOf: IdOf
  /** Rebuilds the generation, so the authenticator knows the change. */
  reload: () => Promise<void>
  stats: Pick<StatsQueries, 'usage'>
}

/** Usage rows are read for every token that made any, however many there are. */
const EVERY_TOKEN = Number.MAX_SAFE_INTEGER

export function createTokenControl(deps: TokenControlDeps): TokenControl {
  const configured = (): TokenView[] => {
    const { allowedTokens, clientTokens } = deps.config()
    const named = new Set(clientTokens.map((entry) => entry.token))
    const plain = allowedTokens.flatMap((token, index): TokenView[] =>
      named.has(token)
        ? []
        : [{ id: deps.idOf(token), name: `ALLOWED_TOKENS #${index + 1}`, label: maskSecret(token), source: 'config', enabled: true, limits: {} }],
    )
    return [
      ...plain,
      ...clientTokens.map((entry, index): TokenView => ({
        id: deps.idOf(entry.token),
        name: entry.name ?? `clientTokens #${index + 1}`,
        label: maskSecret(entry.token),
        source: 'config',
        enabled: entry.enabled,
        limits: pickLimits(entry),
      })),
    ]
  }
  return {
    async list() {
      const now = Date.now()
      // Whole spans: the rollups answer them alone, without reading the request log for a partial hour.
      const [stored, today, month] = await Promise.all([
        deps.store.list(),
        ...[utcDayAt(now), utcMonthAt(now)].map((span) => deps.stats.usage('token', span.start, span.end, { limit: EVERY_TOKEN })),
      ])
      const day = new Map(today.map((row) => [row.id, row]))
      const monthly = new Map(month.map((row) => [row.id, row]))
      const views: TokenView[] = [
        ...configured(),
        ...stored.map((token): TokenView => ({
          id: token.id,
          name: token.name,
          label: token.label,
          source: 'console',
          enabled: token.enabled,
          createdAt: token.createdAt,
          limits: token.limits ?? {},
        })),
      ]
      return views.map((view) => ({
        ...view,
        usage: {
          requestsToday: day.get(view.id)?.requests ?? 0,
          tokensToday: day.get(view.id)?.totalTokens ?? 0,
          tokensThisMonth: monthly.get(view.id)?.totalTokens ?? 0,
        },
      }))
    },
    async create(name, limits = {}) {
      const token = `sk-${randomBytes(36).toString('base64url')}`
      const stored = {
        id: deps.idOf(token),
        name: name.trim() || 'unnamed',
        sha256: sha256(token),
        label: maskSecret(token),
        enabled: true,
        createdAt: Date.now(),
        limits: pickLimits(limits),
      }
      await deps.store.add(stored)
      await deps.reload()
      const { id, label, createdAt } = stored
      return { token, view: { id, name: stored.name, label, source: 'console', enabled: true, createdAt, limits: stored.limits } }
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
    async setLimits(id, limits) {
      const found = await deps.store.setLimits(id, pickLimits(limits))
      if (found) await deps.reload()
      return found
    },
  }
}
