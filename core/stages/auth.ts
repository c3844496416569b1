import { createHash } from 'node:crypto'
import type { ClientIdentity, Outcome, RequestContext } from '../context.ts'
import { createClientGate, tokensOf, type ClientGate } from '../clients/gate.ts'
import { modelRefusal, pickLimits, type ClientLimits } from '../clients/limits.ts'
import type { ResolvedConfig } from '../config/schema.ts'
import { GatewayError } from '../errors.ts'
import { defineStage, type Next, type Stage } from '../pipeline.ts'
import { maskSecret, type IdOf } from '../identity.ts'
import type { Counters } from '../shared/index.ts'
import type { LogWriter } from '../../storage/log-writer.ts'
import type { StoredToken } from '../../storage/queries.ts'
import { attemptBeforeUpstream, logAttempt } from './log.ts'

/** A client the authenticator knows, with what it may do. */
export interface KnownClient {
  identity: ClientIdentity
  enabled: boolean
  /** Epoch ms from which it is refused. */
  expiresAt?: number
  /** Undefined when nothing is checked or counted per request (no promise, no counter). */
  gate?: ClientGate
}

export interface Authenticator {
  (credentials: readonly (string | undefined)[]): ClientIdentity | undefined
  /** The same, with the client's limits. */
  client(credentials: readonly (string | undefined)[]): KnownClient | undefined
  /** The 401 for credentials no usable token matched. */
  refuse(credentials: readonly (string | undefined)[]): GatewayError
}

export interface AuthenticatorOptions {
  /** gateway.config.ts's clientTokens: tokens with a name and limits (one also in ALLOWED_TOKENS gets these). */
  clientTokens?: ResolvedConfig['clientTokens']
  /** What limits count with (the shared state's): needed once a token has a request or token limit. */
  counters?: Counters
}

/**
 * Client tokens are compared by their SHA-256 digest: the lookup is a hash-map probe on a value the caller cannot
 * steer byte by byte, so response time says nothing about how much of a token was right (constant-time in the
 * sense that matters), and the tokens themselves are never kept beside the request. The tokenId that logs show is
 * the deployment's HMAC (`idOf`), which a short token cannot be recovered from. Tokens created in the console are
 * known by their digest alone. A disabled or expired token is refused with 401, saying which.
 */
export function createAuthenticator(
  tokens: readonly string[],
  idOf: IdOf,
  stored: readonly StoredToken[] = [],
  options: AuthenticatorOptions = {},
): Authenticator {
  const known = new Map<string, KnownClient>()
  const add = (digest: string, tokenId: string, label: string, enabled: boolean, limits: ClientLimits = {}) => {
    const gate = createClientGate(tokenId, limits, options.counters)
    known.set(digest, {
      identity: { tokenId, label },
      enabled,
      ...(limits.expiresAt !== undefined && { expiresAt: limits.expiresAt }),
      ...(gate && { gate }),
    })
  }
  for (const token of tokens) add(sha256(token), idOf(token), maskSecret(token), true)
  for (const entry of options.clientTokens ?? []) add(sha256(entry.token), idOf(entry.token), maskSecret(entry.token), entry.enabled, pickLimits(entry))
  for (const token of stored) add(token.sha256, token.id, token.label, token.enabled, token.limits)

  const find = (credentials: readonly (string | undefined)[], usable: boolean) => {
    for (const credential of credentials) {
      if (!credential) continue
      const client = known.get(sha256(credential))
      if (client && isUsable(client) === usable) return client
    }
    return undefined
  }
  // The route asks first (before the body is read), the auth stage again for the same request: its credentials, the
  // same array, are hashed once.
  const found = new WeakMap<readonly (string | undefined)[], KnownClient>()
  const client = (credentials: readonly (string | undefined)[]) => {
    let hit = found.get(credentials)
    if (!hit && (hit = find(credentials, true))) found.set(credentials, hit)
    return hit
  }
  return Object.assign((credentials: readonly (string | undefined)[]) => client(credentials)?.identity, {
    client,
    refuse: (credentials: readonly (string | undefined)[]) => {
      const unusable = find(credentials, false)
      return unusable ? unusableToken(unusable) : unauthorized(credentials, known.size === 0)
    },
  })
}

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')

/**
 * Authenticates the request and holds it to its token's limits: a model the token may not use gets 403, a request
 * past a limit 429 with Retry-After, before any key is spent. Refusals are logged as the routes log theirs (when a
 * log writer is given). A token without limits goes straight on.
 */
export function authStage(authenticate: Authenticator, logs?: LogWriter): Stage {
  return defineStage('auth', (ctx, next) => {
    const client = authenticate.client(ctx.request.credentials)
    if (!client) return refuse(ctx, authenticate.refuse(ctx.request.credentials), logs)
    ctx.client = client.identity
    const gate = client.gate
    if (!gate) return next()
    const model = ctx.request.model
    if (gate.allows && model && !gate.allows(model)) return refuse(ctx, modelRefusal(model, gate.models), logs)
    return gate.admit ? admitted(ctx, gate.admit, gate.spend, next, logs) : next()
  })
}

async function admitted(
  ctx: RequestContext,
  admit: NonNullable<ClientGate['admit']>,
  spend: ClientGate['spend'],
  next: Next,
  logs: LogWriter | undefined,
): Promise<Outcome> {
  const refusal = await admit(Date.now())
  if (refusal) return refuse(ctx, refusal, logs)
  if (spend) ctx.onFinish(() => spend(tokensOf(ctx.attempts), Date.now()))
  return next()
}

/** Rejects with `error`, after logging the request as refused (no key, the gateway's status). */
function refuse(ctx: RequestContext, error: GatewayError, logs: LogWriter | undefined): Promise<never> {
  if (logs) {
    const fields = { requestId: ctx.id, tokenId: ctx.client?.tokenId ?? '', dialect: ctx.request.dialect, operation: 'refused', model: ctx.request.model }
    logAttempt(logs, fields, attemptBeforeUpstream(error, performance.now() - ctx.startedAt))
  }
  return Promise.reject(error)
}

const isUsable = (client: KnownClient) => client.enabled && (client.expiresAt === undefined || Date.now() < client.expiresAt)

/** The 401 for a token that exists but may not be used now. */
function unusableToken(client: KnownClient): GatewayError {
  if (!client.enabled) return new GatewayError(401, 'This gateway token is disabled.')
  return new GatewayError(401, `This gateway token expired at ${new Date(client.expiresAt!).toISOString()}.`)
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
