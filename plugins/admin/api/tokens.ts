// Client tokens (created here and shown once, or configured and listed) and the admin token's rotation.
import * as v from 'valibot'
import { AdminError, json, notFound } from '../internal/http.ts'
import { Ids } from '../internal/inputs.ts'
import { clearedSessionCookie } from '../internal/request.ts'
import type { AdminCall, AdminRoutes } from '../internal/route.ts'
import type { AdminDeps } from '../internal/types.ts'

const Create = v.object({ name: v.pipe(v.string('must be a name'), v.trim(), v.minLength(1, 'is empty'), v.maxLength(100, 'is over 100 characters')) })

export function registerTokenRoutes(routes: AdminRoutes, { control, logger }: AdminDeps): void {
  const { tokens, adminToken } = control

  routes.api('GET', '/api/tokens', () => tokens.list())

  routes.api('POST', '/api/tokens', async (call) => {
    const { name } = await call.body(Create)
    const created = await tokens.create(name)
    logger.info(`client token "${name}" (${created.view.label}) created in the console`)
    return json(created, 201)
  })

  routes.api('POST', '/api/tokens/delete', async (call) => tokens.remove((await call.body(Ids)).ids))

  const setEnabled = (enabled: boolean) => async (call: AdminCall) => {
    const id = call.param('id')
    if (!(await tokens.setEnabled(id, enabled))) throw notFound('No console-created token has this id.')
    return (await tokens.list()).find((token) => token.id === id)
  }
  routes.api('POST', '/api/tokens/:id/enable', setEnabled(true))
  routes.api('POST', '/api/tokens/:id/disable', setEnabled(false))

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
