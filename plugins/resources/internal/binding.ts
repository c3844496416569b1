import { badRequest, GatewayError } from 'gemgate'
import { label, type ResourceName } from './names.ts'
import type { Binding, ResourceStore } from './store.ts'

export interface OwnerOptions {
  store: ResourceStore
  /** FILES_USER_ISOLATION_ENABLED: a client token uses only what it made. */
  isolation: boolean
  /** How long a database call may take before the client hears that the bindings are unavailable. */
  timeoutMs: number
}

/** The key a request must go to, as key-select takes it: that key's id and the resource named when it cannot. */
export interface PinnedKey {
  id: string
  resource: string
}

/**
 * The one key whose project holds every resource a request names, or undefined when it names none the gateway knows
 * (and may go to any key). Refused before any key is asked: with isolation, a resource this client token did not make
 * (another token's, one never made through the gateway, an expired one), and always, resources of two keys' projects
 * in one request (no key could read them all).
 */
export async function ownerKey(resources: readonly ResourceName[], tokenId: string, options: OwnerOptions): Promise<PinnedKey | undefined> {
  let owner: { binding: Binding; resource: ResourceName } | undefined
  for (const resource of resources) {
    const binding = await withinTime(options.store.find(resource.name, Date.now()), options.timeoutMs)
    if (!binding || (options.isolation && binding.tokenId !== tokenId)) {
      if (options.isolation) throw notYours(resource)
      continue
    }
    if (owner && owner.binding.keyId !== binding.keyId) {
      throw badRequest(
        `${label(owner.resource)} and ${label(resource)} belong to the projects of two different API keys, and one request can only use resources of one key's project; use them in separate requests, or create one of them again together with the other.`,
      )
    }
    owner ??= { binding, resource }
  }
  return owner && { id: owner.binding.keyId, resource: label(owner.resource) }
}

export const notYours = (resource: ResourceName): GatewayError =>
  new GatewayError(
    403,
    `${label(resource)} is not one of this client's resources: it was made with another token, was never made through this gateway, or has expired.`,
  )

/** A database call, or a 503 naming the bindings when it fails or takes too long (a database down delays nothing else). */
export async function withinTime<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    return await Promise.race([work, late])
  } catch (error) {
    throw new GatewayError(503, 'The records of which API key owns which resource are unavailable (database); try again shortly.', { cause: error })
  } finally {
    clearTimeout(timer)
  }
}
