import type { EventHandler, H3Event } from 'h3'
import type { ClientIdentity } from '../../context.ts'
import { GatewayError, notFound } from '../../errors.ts'
import type { Json } from '../../internal/json.ts'
import type { Authenticator } from '../../stages/auth.ts'
import type { Dialect } from '../types.ts'
import { parseBody, readBodyText } from './body.ts'
import { modelId } from './models.ts'
import { credentialsOf, gatewayErrorOrRethrow } from './request.ts'

/** What every gateway route needs before its own work: who may call, what may be asked for, how much may be sent. */
export interface RouteGuards {
  authenticate: Authenticator
  /** FILTERED_MODELS. */
  filteredModels: ReadonlySet<string>
  maxBodyBytes: number
  /**
   * Logs a request refused before the pipeline ran (no valid token, a bad body, a filtered model), so the console
   * counts it; refusals from inside the pipeline are logged there.
   */
  logRefusal?(event: H3Event, refusal: { dialect: string; error: GatewayError; client?: ClientIdentity; model?: string }): void
}

/** One authenticated call of a route: the client, its credentials, and the body and model readers. */
export interface RouteCall {
  event: H3Event
  client: ClientIdentity
  /** Every credential presented; the pipeline's auth stage checks them again (plugins may run requests too). */
  credentials: (string | undefined)[]
  /** The body as text, size-capped; read at most once. */
  text(): Promise<string>
  /** The body as a JSON object, size- and depth-capped; `{}` for an empty body. */
  json(): Promise<Json>
  /**
   * A model id as the client named it (`x` or `models/x`), refused with 400 when it is not a plain id and with 404
   * when the operator filtered it out. `param` names the field for dialects that report it.
   */
  model(raw: unknown, param?: string): string
  /** Whether a model list shows `id` to this client: not filtered out (FILTERED_MODELS), and one its token may use. */
  listed(id: string): boolean
}

export interface RouteOptions {
  /** Headers carrying a credential in this dialect besides Bearer, x-goog-api-key and ?key= (Anthropic's x-api-key). */
  credentialHeaders?: string[]
}

/**
 * Wraps a route handler with what every route of the gateway does the same way: the client token is checked
 * before a byte of the body is read, and every refusal (a GatewayError) is answered in the route's dialect.
 * Anything else thrown is a bug, left to the app's onError (logged, opaque 500).
 */
export function defineGatewayRoute(
  dialect: Dialect,
  guards: RouteGuards,
  handler: (call: RouteCall) => Promise<Response>,
  options: RouteOptions = {},
): EventHandler<Response> {
  const headers = options.credentialHeaders ?? []
  return async (event) => {
    const credentials = credentialsOf(event, ...headers)
    const client = guards.authenticate(credentials)
    if (!client) {
      const refusal = guards.authenticate.refuse(credentials)
      guards.logRefusal?.(event, { dialect: dialect.name, error: refusal })
      return dialect.error(refusal, event)
    }
    const call = routeCall(event, client, credentials, guards)
    try {
      return await handler(call)
    } catch (error) {
      const failure = gatewayErrorOrRethrow(error)
      if (!failure.logged) guards.logRefusal?.(event, { dialect: dialect.name, error: failure, client, model: call.named })
      return dialect.error(failure, event)
    }
  }
}

/** A route call that remembers the last model it was asked to check (`named`), for the log row of a refusal. */
function routeCall(event: H3Event, client: ClientIdentity, credentials: (string | undefined)[], guards: RouteGuards): RouteCall & { named?: string } {
  const text = () => readBodyText(event, guards.maxBodyBytes)
  /** The token's model rule, looked up once a list asks. */
  let allows: ((model: string) => boolean) | undefined
  const call: RouteCall & { named?: string } = {
    event,
    client,
    credentials,
    text,
    json: async () => parseBody(await text()),
    model(raw, param) {
      const given = typeof raw === 'string' ? raw : ''
      const id = modelId(given)
      call.named = id || undefined
      if (!id) throw new GatewayError(400, given ? `Invalid model name "${given.slice(0, 64)}".` : 'A model is required.', { param })
      if (guards.filteredModels.has(id)) throw notFound(`Model ${id} is not available through this gateway.`)
      return id
    },
    listed(id) {
      if (guards.filteredModels.has(id)) return false
      allows ??= guards.authenticate.client(credentials)?.gate?.allows ?? (() => true)
      return allows(id)
    },
  }
  return call
}
