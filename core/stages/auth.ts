import { createHash } from 'node:crypto'
import type { ClientIdentity } from '../context.ts'
import { GatewayError } from '../errors.ts'
import { defineStage, type Stage } from '../pipeline.ts'
import { maskSecret, type IdOf } from '../identity.ts'

export type Authenticator = (credentials: readonly (string | undefined)[]) => ClientIdentity | undefined

/**
 * Client tokens are compared by their SHA-256 digest: the lookup is a hash-map probe on a value the caller cannot
 * steer byte by byte, so response time says nothing about how much of a token was right (constant-time in the
 * sense that matters), and the tokens themselves are never kept beside the request. The tokenId that logs show is
 * the deployment's HMAC (`idOf`), which a short token cannot be recovered from.
 */
export function createAuthenticator(tokens: readonly string[], idOf: IdOf): Authenticator {
  const known = new Map<string, ClientIdentity>()
  for (const token of tokens) {
    const digest = sha256(token)
    known.set(digest, { tokenId: idOf(token), label: maskSecret(token) })
  }
  return (credentials) => {
    for (const credential of credentials) {
      if (!credential) continue
      const identity = known.get(sha256(credential))
      if (identity) return identity
    }
    return undefined
  }
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')

export function authStage(authenticate: Authenticator): Stage {
  return defineStage('auth', (ctx, next) => {
    const client = authenticate(ctx.request.credentials)
    if (!client) return Promise.reject(unauthorized(ctx.request.credentials))
    ctx.client = client
    return next()
  })
}

/** The 401 for credentials no token matched: which one depends on whether the client presented any at all. */
export function unauthorized(credentials: readonly (string | undefined)[]): GatewayError {
  return new GatewayError(
    401,
    credentials.some(Boolean)
      ? 'API key not valid for this gateway. Pass one of ALLOWED_TOKENS.'
      : 'Missing credential: pass a gateway token as ?key=, x-goog-api-key or Authorization: Bearer.',
  )
}
