import { maskSecret } from '../identity.ts'
import type { ResolvedConfig } from './schema.ts'

/** Shorter client or admin tokens are warned about at start: they can be guessed, and they guard paid keys. */
export const MIN_TOKEN_LENGTH = 16

/**
 * The token placeholders .env.example ships with, past and present: a copy that was never edited must not serve,
 * since anyone who has read the example knows them.
 */
export const PLACEHOLDER_TOKENS: readonly string[] = ['sk-choose-a-long-random-token', 'CHANGE-ME-long-random-client-token']

export interface TokenStrength {
  /** Worth a warning at start (the tokens are named by their masked form). */
  warnings: string[]
  /** Refuse to start. */
  errors: string[]
}

/** Pure: what is weak about the configured client tokens (ALLOWED_TOKENS) and the admin token (AUTH_TOKEN). */
export function checkTokenStrength(config: Pick<ResolvedConfig, 'allowedTokens' | 'authToken' | 'clientTokens'>): TokenStrength {
  const named = new Map<string, string>()
  for (const token of config.allowedTokens) named.set(token, 'client token')
  for (const { token, name } of config.clientTokens) if (!named.has(token)) named.set(token, `client token "${name}"`)
  if (config.authToken && !named.has(config.authToken)) named.set(config.authToken, 'AUTH_TOKEN')
  const result: TokenStrength = { warnings: [], errors: [] }
  for (const [token, name] of named) {
    if (PLACEHOLDER_TOKENS.includes(token)) {
      result.errors.push(`${name} "${token}" is the placeholder from .env.example; set a long random token of your own`)
    } else if (token.length < MIN_TOKEN_LENGTH) {
      result.warnings.push(
        `${name} ${maskSecret(token)} is ${token.length} characters long; tokens of ${MIN_TOKEN_LENGTH}+ random characters cannot be guessed`,
      )
    }
  }
  return result
}
