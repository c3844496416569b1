// Client tokens (created here and shown once, or configured and listed) with their limits and usage, and the admin
// token's rotation.
import * as v from 'valibot'
import type { ClientLimits } from 'gemgate'
import { AdminError, json, notFound } from '../internal/http.ts'
import { Ids } from '../internal/inputs.ts'
import { clearedSessionCookie } from '../internal/request.ts'
import type { AdminCall, AdminRoutes } from '../internal/route.ts'
import type { AdminDeps } from '../internal/types.ts'

const Name = v.pipe(v.string('must be a name'), v.trim(), v.minLength(1, 'is empty'), v.maxLength(100, 'is over 100 characters'))
/** A count limit: a whole number from 1, or null (or left out) for none. */
const Count = v.nullish(
  v.pipe(
    v.number('must be a number'),
    v.integer('must be a whole number'),
    v.minValue(1, 'must be at least 1 (empty: no limit)'),
    v.maxValue(1e15, 'is too large'),
  ),
)
/** Every field null or left out: no such limit. Unknown fields are refused (a typo would otherwise lift nothing silently). */
const Limits = v.strictObject(
  {
    models: v.nullish(
      v.pipe(
        v.array(v.pipe(v.string('must be model names'), v.trim(), v.minLength(1, 'has an empty name'), v.maxLength(191, 'has a name over 191 characters'))),
        v.maxLength(100, 'lists over 100 models'),
      ),
    ),
    rpm: Count,
    rpd: Count,
    tokensPerDay: Count,
    tokensPerMonth: Count,
    expiresAt: v.nullish(v.pipe(v.number('must be epoch milliseconds'), v.integer('must be epoch milliseconds'), v.minValue(0), v.maxValue(8.64e15))),
  },
  'must be an object of limits',
)
const Create = v.object({ name: Name, limits: v.optional(Limits) })
const SetLimits = v.object({ limits: Limits })

export function registerTokenRoutes(routes: AdminRoutes, { control, logger }: AdminDeps): void {
  const { tokens, adminToken } = control
  /** The row of one token (its view and usage), or 404. */
  const rowOf = async (id: string) => {
    const row = (await tokens.list()).find((token) => token.id === id)
    if (!row) throw notFound('No token has this id.')
    return row
  }

  routes.api('GET', '/api/tokens', () => tokens.list())

  routes.api('POST', '/api/tokens', async (call) => {
    const { name, limits } = await call.body(Create)
    const created = await tokens.create(name, withoutNulls(limits))
    logger.info(`client token "${name}" (${created.view.label}) created in the console`)
    return json(created, 201)
  })

  routes.api('POST', '/api/tokens/delete', async (call) => tokens.remove((await call.body(Ids)).ids))

  const setEnabled = (enabled: boolean) => async (call: AdminCall) => {
    const id = call.param('id')
    if (!(await tokens.setEnabled(id, enabled))) throw notFound('No console-created token has this id.')
    return rowOf(id)
  }
  routes.api('POST', '/api/tokens/:id/enable', setEnabled(true))
  routes.api('POST', '/api/tokens/:id/disable', setEnabled(false))

  routes.api('PUT', '/api/tokens/:id/limits', async (call) => {
    const id = call.param('id')
    const { limits } = await call.body(SetLimits)
    if (!(await tokens.setLimits(id, withoutNulls(limits)))) {
      const configured = (await tokens.list()).some((token) => token.id === id && token.source === 'config')
      if (configured) throw new AdminError(409, 'This token is configured in gateway.config.ts (clientTokens) or ALLOWED_TOKENS: change its limits there.')
      throw notFound('No console-created token has this id.')
    }
    logger.info(`limits of client token ${id} changed in the console`)
    return rowOf(id)
  })

  routes.api('POST', '/api/admin-token/rotate', async (call) => {
    if (adminToken.source !== 'generated') {
      const where = adminToken.source === 'env' ? 'AUTH_TOKEN (or ALLOWED_TOKENS) in the environment' : 'gateway.config.ts'
      throw new AdminError(409, `The admin token is set by ${where}: change it there.`)
    }
    const token = await adminToken.rotate()
    logger.info('admin token rotated in the console: every session has ended')
    // Every session is over, this one too: its cookie goes with it.
    return json({ token }, 200, { 'set-cookie': clearedSessionCookie(call.event) })
  })
}

/** The limits as the store takes them: a field that is null is no limit, so it is left out. */
function withoutNulls(limits: v.InferOutput<typeof Limits> | undefined): ClientLimits {
  return Object.fromEntries(Object.entries(limits ?? {}).filter(([, value]) => value !== null && value !== undefined)) as ClientLimits
}
