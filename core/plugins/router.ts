import type { H3 } from 'h3'
import { modelRefusal } from '../clients/limits.ts'
import { notFound } from '../errors.ts'
import type { PluginRouter } from '../plugin.ts'
import { credentialsOf } from '../dialects/shared/request.ts'
import { defineGatewayRoute, type RouteGuards } from '../dialects/shared/route.ts'

/** Plugin routes get what core routes get: auth before the body is read, errors in their dialect's shape. */
export function createPluginRouter(app: H3, guards: RouteGuards): PluginRouter {
  return {
    app,
    add(method, path, dialect, handler) {
      const route = defineGatewayRoute(dialect, guards, handler)
      // gemini-balance served every /v1 route under /hf/v1 as well; clients configured that way keep working.
      for (const at of path.startsWith('/v1/') ? [path, `/hf${path}`] : [path]) app.on(method, at, route)
    },
    authenticate(event) {
      const credentials = credentialsOf(event)
      const client = guards.authenticate(credentials)
      if (!client) throw guards.authenticate.refuse(credentials)
      return client
    },
    async admit(event, model) {
      if (guards.filteredModels.has(model)) return notFound(`Model ${model} is not available through this gateway.`)
      const gate = guards.authenticate.client(credentialsOf(event))?.gate
      if (!gate) return undefined
      if (gate.allows && !gate.allows(model)) return modelRefusal(model, gate.models)
      return gate.admit?.(Date.now())
    },
  }
}
