// One generation's h3 app: URL rewrites of plugins before routing, errors answered in the dialect of the path, and
// every route the gateway serves.
import type { ConsolaInstance } from 'consola'
import { H3, type EventHandler } from 'h3'
import { corsMiddleware } from './cors.ts'
import { dialectForPath } from './dialects/for-path.ts'
import { registerAnthropicRoutes } from './dialects/anthropic/index.ts'
import { registerGeminiRoutes } from './dialects/gemini-routes.ts'
import { registerOpenAIRoutes } from './dialects/openai/index.ts'
import { registerOpenAIPassthroughRoutes } from './dialects/openai-passthrough.ts'
import { registerResponsesRoutes } from './dialects/responses/index.ts'
import type { DialectRouteDeps } from './dialects/types.ts'
import { GatewayError } from './errors.ts'
import type { ModelVariant } from './plugin.ts'
import type { StartedPlugins } from './plugins/host.ts'
import { createPluginRouter } from './plugins/router.ts'
import { variantModels } from './plugins/variants.ts'
import type { SharedStatus } from './shared/index.ts'

/** What GET /ready answers. */
export interface Readiness {
  ready: boolean
  /** Requests are served either way: rows queue while the database is down. */
  database: 'up' | 'down'
  /** local: no Redis; degraded: Redis unreachable, this instance runs on its own state meanwhile. */
  redis: SharedStatus
}

/** The routes of one generation: health and readiness, every dialect's, the plugins', and a 404 in the path's dialect. */
export function createGatewayApp(deps: {
  hooks: StartedPlugins['hooks']
  logger: ConsolaInstance
  routeDeps: DialectRouteDeps
  readiness: () => Readiness
  metrics?: EventHandler<Response>
}): H3 {
  const { hooks, logger } = deps
  const rewriters = hooks.filter((plugin) => plugin.rewriteUrl)
  const app = new H3({
    // h3 picks the route right after onRequest (app.use middleware runs once it has, too late to change it).
    onRequest:
      rewriters.length === 0
        ? undefined
        : (event) => {
            for (const plugin of rewriters) event.url = plugin.rewriteUrl!(event.url, event.req.method) ?? event.url
          },
    onError(error, event) {
      if (error.status >= 500 || !error.status) logger.error('unhandled error', error)
      return dialectForPath(event.url.pathname).error(
        new GatewayError(error.status >= 400 ? error.status : 500, error.status === 500 ? 'Internal gateway error' : error.message),
        event,
      )
    },
  })
  app.use(corsMiddleware())
  app.get('/health', () => ({ status: 'healthy' }))
  if (deps.metrics) app.get('/metrics', deps.metrics)
  app.get('/ready', (event) => {
    const readiness = deps.readiness()
    if (!readiness.ready) event.res.status = 503
    return { status: readiness.ready ? 'ready' : 'stopping', database: readiness.database, redis: readiness.redis }
  })
  registerGeminiRoutes(app, deps.routeDeps)
  registerOpenAIRoutes(app, deps.routeDeps)
  registerOpenAIPassthroughRoutes(app, deps.routeDeps)
  registerAnthropicRoutes(app, deps.routeDeps)
  registerResponsesRoutes(app, deps.routeDeps)
  const router = createPluginRouter(app, deps.routeDeps.guards)
  for (const plugin of hooks) plugin.routes?.(router)
  app.all('/**', (event) => dialectForPath(event.url.pathname).error(new GatewayError(404, `No route for ${event.req.method} ${event.url.pathname}.`), event))
  return app
}

/** The models plugins add to a page of the upstream list: variants of its models, then each plugin's own. */
export function pluginModels(hooks: StartedPlugins['hooks'], variants: readonly ModelVariant[]): DialectRouteDeps['pluginModels'] {
  const adders = hooks.filter((plugin) => plugin.models)
  if (adders.length === 0 && variants.length === 0) return undefined
  return (upstream) => [...variantModels(upstream, variants), ...adders.flatMap((plugin) => plugin.models!(upstream))]
}
