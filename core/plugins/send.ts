import type { KeyPool, PoolKey } from '../keys/pool.ts'
import { pinnedRefusal } from '../keys/pinned.ts'
import { GatewayError } from '../errors.ts'
import type { PluginContext } from '../plugin.ts'
import type { UpstreamClient, UpstreamResponse } from '../upstream/client.ts'
import { readCapped } from '../upstream/gemini.ts'
import type { ProxyChooser } from '../upstream/proxies.ts'

export interface KeySenderDeps {
  client: UpstreamClient
  /** Every pool whose keys a plugin may name: the gateway's and the plugins' own. */
  pools: () => readonly KeyPool[]
  /** BASE_URL: the API root of the gateway's pool (a plugin's pool may have its own). */
  baseUrl: string
  customHeaders: Record<string, string>
  chooseProxy: ProxyChooser
}

/**
 * `PluginContext.send`: one raw request with one key, as the Gemini call sends its own (the key's proxy,
 * CUSTOM_HEADERS, x-goog-api-key), for bodies and answers that are not JSON operations. The key reaches no origin but
 * its API root's, so no plugin bug can hand it to a third party.
 */
export function createKeySender(deps: KeySenderDeps): PluginContext['send'] {
  return async (keyId, request) => {
    const { key, pool } = findKey(deps.pools(), keyId)
    const refusal = pinnedRefusal(pool, { id: keyId, resource: request.resource ?? 'The resource' }, '')
    if (refusal) throw refusal
    const root = new URL(pool.baseUrl ?? deps.baseUrl).origin
    if (new URL(request.url).origin !== root) throw new Error(`a plugin may send a key's request to ${root} only, not to ${new URL(request.url).origin}`)
    const response = await deps.client.send({
      method: request.method,
      url: request.url,
      headers: { ...deps.customHeaders, ...request.headers, 'x-goog-api-key': key.secret },
      body: request.body,
      signal: request.signal,
      proxy: deps.chooseProxy(key.id),
    })
    if (response.status >= 200 && response.status <= 299) return response
    // Google names the key in some refusals: what leaves here has its masked label instead.
    return textResponse(response, (await readCapped(response)).replaceAll(key.secret, key.label))
  }
}

function findKey(pools: readonly KeyPool[], id: string): { key: PoolKey; pool: KeyPool } {
  for (const pool of pools) {
    const key = pool.get(id)
    if (key) return { key, pool }
  }
  throw new GatewayError(503, 'The API key this resource belongs to is no longer configured; no other key can reach it.')
}

function textResponse(response: UpstreamResponse, text: string): UpstreamResponse {
  return {
    status: response.status,
    header: (name) => response.header(name),
    text: async () => text,
    chunks: async function* () {
      yield new TextEncoder().encode(text)
    },
    discard: () => {},
  }
}
