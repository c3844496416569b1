// How the console's routes are declared: each says who may call it (anyone, a session's page, the API), and the
// checks run before a byte of the body is read. Handlers return data (answered as JSON) and throw refusals.
import type { ConsolaInstance } from 'consola'
import { getRouterParam, type H3, type H3Event } from 'h3'
import type * as v from 'valibot'
import type { AdminAuth, Guard } from './guard.ts'
import { AdminError, errorResponse, json, readJson, readQuery, redirect } from './http.ts'
import { sessionIdOf } from './request.ts'

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'

/** One API call, checked: who made it, and readers for its input. */
export interface AdminCall {
  readonly event: H3Event
  readonly auth: AdminAuth
  /** A path parameter, decoded. */
  param(name: string): string
  query<S extends v.GenericSchema>(schema: S): v.InferOutput<S>
  /** The JSON body (read once). */
  body<S extends v.GenericSchema>(schema: S): Promise<v.InferOutput<S>>
}

export interface AdminRoutes {
  /**
   * A JSON route behind the session or the admin token (401 without). A value returned is answered as JSON, a
   * Response as it is, nothing as 204. Calls that change something with a cookie need the CSRF token (403).
   */
  api(method: Method, path: string, handler: (call: AdminCall) => unknown): void
  /** A page behind the session: without one, 303 to the login page. */
  page(path: string, handler: (event: H3Event) => Response | Promise<Response>): void
  /** Open to anyone (login, assets); refusals still in the console's shape. */
  open(method: Method, path: string, handler: (event: H3Event) => Response | Promise<Response>): void
}

export function createAdminRoutes(app: H3, guard: Guard, logger: ConsolaInstance): AdminRoutes {
  const answer = async (event: H3Event, work: () => unknown): Promise<Response> => {
    try {
      const result = await work()
      if (result instanceof Response) return result
      return result === undefined ? new Response(null, { status: 204, headers: { 'cache-control': 'no-store' } }) : json(result)
    } catch (error) {
      return errorResponse(asAdminError(error, event, logger))
    }
  }

  return {
    api(method, path, handler) {
      app.on(method, path, (event) =>
        answer(event, async () => {
          const auth = await guard.authenticate(event)
          if (!auth) throw new AdminError(401, 'Log in to the console first (or send the admin token as a Bearer).')
          guard.checkCsrf(event, auth, event.req.headers.get('x-csrf-token'))
          return handler({
            event,
            auth,
            param: (name) => getRouterParam(event, name, { decode: true }) ?? '',
            query: (schema) => readQuery(event, schema),
            body: (schema) => readJson(event, schema),
          })
        }),
      )
    },
    page(path, handler) {
      app.get(path, (event) =>
        answer(event, async () => {
          const auth = await guard.authenticate(event).catch(() => undefined)
          // A cookie whose session is over says so on the login page.
          return auth ? handler(event) : redirect(sessionIdOf(event) ? '/?error=expired' : '/')
        }),
      )
    },
    open(method, path, handler) {
      app.on(method, path, (event) => answer(event, () => handler(event)))
    },
  }
}

/**
 * A refusal as the console shows it. The gateway's own refusals (GatewayError, h3's HTTPError) keep their status and
 * message, written for operators; anything else is a bug, logged here and answered without details.
 */
function asAdminError(error: unknown, event: H3Event, logger: ConsolaInstance): AdminError {
  if (error instanceof AdminError) return error
  const status = (error as { status?: unknown } | null)?.status
  if (typeof status === 'number' && status >= 400 && status < 500 && error instanceof Error) return new AdminError(status, error.message)
  logger.error(`${event.req.method} ${event.url.pathname} failed:`, error)
  return new AdminError(500, 'The console failed to answer; the gateway log says why.')
}
