import * as v from 'valibot'
import { definePlugin } from 'gemgate'
import { registerCompatKeyRoutes } from './api/compat.ts'
import { registerJobRoutes } from './api/jobs.ts'
import { registerKeyRoutes } from './api/keys.ts'
import { registerLogRoutes } from './api/logs.ts'
import { registerPageRoutes } from './api/pages.ts'
import { registerProxyRoutes } from './api/proxies.ts'
import { registerSessionRoutes } from './api/session.ts'
import { registerSettingRoutes } from './api/settings.ts'
import { registerStatsRoutes } from './api/stats.ts'
import { registerTokenRoutes } from './api/tokens.ts'
import { announceFirstRun } from './internal/first-run.ts'
import { createGuard } from './internal/guard.ts'
import { notFound } from './internal/http.ts'
import { createAdminRoutes } from './internal/route.ts'
import { createSessionStore } from './internal/sessions.ts'
import { createLoginThrottle } from './internal/throttle.ts'
import type { AdminDeps } from './internal/types.ts'

const REGISTER = [
  registerPageRoutes,
  registerSessionRoutes,
  registerKeyRoutes,
  registerCompatKeyRoutes,
  registerSettingRoutes,
  registerStatsRoutes,
  registerLogRoutes,
  registerTokenRoutes,
  registerJobRoutes,
  registerProxyRoutes,
]

/**
 * The operator's console: login with the admin token at `/`, then keys, dashboard, settings, logs, client tokens and
 * jobs, over the JSON API under /api (also gemini-balance's paths, for its scripts). Everything but the login page and
 * the app's files needs a session (an HttpOnly, SameSite=Strict cookie; sessions kept in the state store, so in Redis
 * when the gateway shares one) or the admin token as a Bearer. Built on `ctx.control` like any plugin could be.
 */
export default definePlugin({
  name: 'admin',
  summary: "The operator's console at `/`: keys, dashboard, live settings, logs, client tokens and jobs, behind the admin token.",
  alwaysOn: true,
  options: v.strictObject({
    sessionExpireSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(300), v.maxValue(86_400)), 3600),
    trustForwardedFor: v.optional(v.boolean(), false),
  }),
  env: {
    sessionExpireSeconds: { env: 'ADMIN_SESSION_EXPIRE', kind: 'int' },
    trustForwardedFor: { env: 'ADMIN_TRUST_FORWARDED_FOR', kind: 'bool' },
  },
  docs: {
    sessionExpireSeconds: 'a console session ends this long after login (300 to 86400 seconds)',
    trustForwardedFor:
      "wrong admin tokens are slowed down per client address: take it from X-Forwarded-For (the entry the proxy in front added) instead of the connection's; only behind a proxy that sets it",
  },

  setup(options, ctx) {
    const { control } = ctx
    announceFirstRun(control.adminToken, ctx.settings, ctx.logger)
    const sessions = createSessionStore(ctx.state, { expireSeconds: options.sessionExpireSeconds, fingerprint: () => control.adminToken.fingerprint })
    const guard = createGuard({ adminToken: control.adminToken, sessions, throttle: createLoginThrottle(), trustForwardedFor: options.trustForwardedFor })
    const deps: AdminDeps = { control, logger: ctx.logger, sessions, guard, sessionExpireSeconds: options.sessionExpireSeconds }
    return {
      routes(router) {
        const routes = createAdminRoutes(router.app, guard, ctx.logger)
        for (const register of REGISTER) register(routes, deps)
        // Any other path under /api is the console's too: refused without a session like the rest, then a 404.
        for (const method of ['GET', 'POST', 'PUT', 'DELETE'] as const) {
          routes.api(method, '/api/**', () => {
            throw notFound('The console has no such API route.')
          })
        }
      },
      jobs: [
        {
          name: 'session-sweep',
          description: 'Removes console sessions that are over (expired, or made under a former admin token).',
          schedule: '*/15 * * * *',
          async run() {
            return `${await sessions.sweep()} session(s) removed`
          },
        },
      ],
    }
  },
})
