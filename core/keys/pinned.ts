import { GatewayError } from '../errors.ts'
import type { KeyPool } from './pool.ts'

/**
 * Why a request bound to one key (it names a resource in that key's project) cannot go now, as the client should hear
 * it: the resource, and that its key is gone, disabled or cooling (429 with Retry-After). Undefined when it may go.
 */
export function pinnedRefusal(pool: KeyPool, pinned: { id: string; resource: string }, model: string): GatewayError | undefined {
  const refusal = pool.refusePinned(pinned.id, model)
  if (!refusal) return undefined
  const headers: Record<string, string> = refusal.retryAfterSeconds ? { 'retry-after': String(refusal.retryAfterSeconds) } : {}
  return new GatewayError(
    refusal.status,
    `${pinned.resource} belongs to the project of one API key, and that key ${refusal.message}; no other key can reach it.`,
    { headers },
  )
}
