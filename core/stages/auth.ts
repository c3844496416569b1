import { createHash } from 'node:crypto'
import type { ClientIdentity } from '../context.ts'
import { GatewayError } from '../errors.ts'
import { defineStage, type Stage } from '../pipeline.ts'
import { maskSecret, type IdOf } from '../identity.ts'
import type { StoredToken } from '../../storage/queries.ts'

export interface Authenticator {
  (credentials: readonly (string | undefined)[]): ClientIdentity | undefined
  /** The 401 for credentials no token matched. */
  refuse(credentials: readonly (string | undefined)[]): GatewayError
}

/**
 * Client tokens are compared by their SHA-256 digest: the lookup is a hash-map probe on a value the caller cannot
 * steer byte by byte, so response time says nothing about how much of a token was right (constant-time in the
 * sense that matters), and the tokens themselves are never kept beside the request. The tokenId that logs show is
 * the deployment's HMAC (`idOf`), which a short token cannot be recovered from. Tokens created in the console are
 * known by their digest alone; a disabled one is refused like an unknown one.
 */
export function createAuthenticator(tokens: readonly string[], idOf: IdOf, stored: readonly StoredToken[] = []): Authenticator {
  const known = new Map<string, ClientIdentity>()
  for (const token of tokens) known.set(sha256(token), { tokenId: idOf(token), label: maskSecret(token) })
  for (const token of stored) if (token.enabled) known.set(token.sha256, { tokenId: token.id, label: token.label })
  const authenticate = (credentials: readonly (string | undefined)[]) => {
    for (const credential of credentials) {
      if (!credential) continue
      const identity = known.get(sha256(credential))
      if (identity) return identity
    }
    return undefined
  }
  return Object.assign(authenticate, { refuse: (credentials: readonly (string | undefined)[]) => unauthorized(credentials, known.size === 0) })
}

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')

export function authStage(authenticate: Authenticator): Stage {
  return defineStage('auth', (ctx, next) => {
    const client = authenticate(ctx.request.credentials)
    if (!client) return Promise.reject(authenticate.refuse(ctx.request.credentials))
    ctx.client = client
    return next()
  })
}

/** The 401 for credentials no token matched: which one depends on whether the client presented any at all. */
function unauthorized(credentials: readonly (string | undefined)[], noTokens: boolean): GatewayError {
  if (noTokens) return new GatewayError(401, 'This gateway has no client token yet: create one in its console, or set ALLOWED_TOKENS.')
  return new GatewayError(
    401,
    credentials.some(Boolean)
      ? 'API key not valid for this gateway. Pass one of ALLOWED_TOKENS.'
      : 'Missing credential: pass a gateway token as ?key=, x-goog-api-key or Authorization: Bearer.',
  )
}
