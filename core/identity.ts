import { createHmac, randomBytes, randomUUID } from 'node:crypto'

/** The id under which a secret (an API key, a client token) appears in logs, key state and the admin UI. */
export type IdOf = (secret: string) => string

/** 16 hex characters: 64 bits, far past any collision among a deployment's keys and tokens. */
const ID_HEX_CHARS = 16

/**
 * Ids are an HMAC of the secret under the deployment's own secret. A bare hash of a short token could be
 * brute-forced from a log line; this cannot without the deployment secret. Every instance of one deployment holds
 * the same deployment secret (storage/deployment-secret.ts), so they agree on ids in shared state and logs.
 */
export function createIdHasher(deploymentSecret: string): IdOf {
  if (deploymentSecret.length < 32) throw new Error('the deployment secret must be at least 32 characters')
  return (secret) => createHmac('sha256', deploymentSecret).update(secret).digest('hex').slice(0, ID_HEX_CHARS)
}

/**
 * A request's id: a UUIDv7 (RFC 9562), its first 48 bits the time in ms. Ids made later sort later, so the log
 * index on request_id grows at its end instead of splitting pages at random: a random v4 id made that index the
 * log writer's largest cost, and a growing one as the table grew.
 */
export function newRequestId(): string {
  const ms = Date.now().toString(16).padStart(12, '0')
  // randomUUID's pool makes its 122 random bits cheap; the time replaces the first 48 and '7' its version digit.
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${randomUUID().slice(15)}`
}

/** 32 random bytes as hex: a deployment secret, or an ephemeral one where none is shared. */
export function randomSecret(): string {
  return randomBytes(32).toString('hex')
}

/**
 * A secret as it may be shown: a few characters at each end, never more than a third of it, so a short token
 * is not half given away by its own label.
 */
export function maskSecret(secret: string): string {
  if (secret.length >= 24) return `${secret.slice(0, 4)}...${secret.slice(-4)}`
  if (secret.length >= 12) return `${secret.slice(0, 2)}...${secret.slice(-2)}`
  return `${secret.slice(0, Math.min(2, Math.floor(secret.length / 3)))}...`
}

/** Reads a token from `Authorization: Bearer <t>` (the scheme is case-insensitive). */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined
  const match = /^\s*Bearer\s+(.+?)\s*$/i.exec(header)
  return match?.[1]
}
