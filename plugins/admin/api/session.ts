// Logging in and out. The login form posts `auth_token` as gemini-balance's did (and gets the page back on failure);
// scripts post JSON and get the CSRF token to send with their calls.
import * as v from 'valibot'
import { AdminError, isJsonRequest, json, MAX_FORM_BYTES, readForm, readJson, redirect, validate } from '../internal/http.ts'
import { html } from '../internal/pages.ts'
import { clearedSessionCookie, isSameOrigin, sessionCookie, sessionIdOf } from '../internal/request.ts'
import type { AdminRoutes } from '../internal/route.ts'
import type { AdminDeps } from '../internal/types.ts'
import { createLoginRenderer } from './pages.ts'

const Login = v.object({ auth_token: v.pipe(v.string('the admin token is required'), v.maxLength(1024, 'is too long')) })

export function registerSessionRoutes(routes: AdminRoutes, deps: AdminDeps): void {
  const { control, guard, sessions, sessionExpireSeconds } = deps
  const renderLogin = createLoginRenderer(deps)

  routes.open('POST', '/auth', async (event) => {
    // Login CSRF: another site's page must not log the browser into a session of its choosing.
    if (!isSameOrigin(event)) throw new AdminError(403, 'Refused: the login came from another site.')
    const asJson = isJsonRequest(event)
    const { auth_token: token } = asJson ? await readJson(event, Login, MAX_FORM_BYTES) : validate(Login, await readForm(event), 'login')
    try {
      guard.checkToken(event, token)
    } catch (error) {
      if (asJson || !(error instanceof AdminError)) throw error
      if (error.status === 401) return redirect('/?error=invalid')
      return html(await renderLogin(error.message), error.status, error.headers)
    }
    const previous = sessionIdOf(event)
    if (previous) await sessions.end(previous)
    const { id, session } = await sessions.create()
    const cookie = sessionCookie(event, id, sessionExpireSeconds)
    if (!asJson) return redirect('/keys', [cookie])
    return json({ csrfToken: session.csrfToken, expiresAt: session.expiresAt }, 200, { 'set-cookie': cookie })
  })

  routes.open('POST', '/logout', async (event) => {
    const asJson = isJsonRequest(event)
    const auth = await guard.authenticate(event).catch(() => undefined)
    if (auth?.kind === 'session') {
      const presented = asJson ? event.req.headers.get('x-csrf-token') : (await readForm(event)).csrf
      guard.checkCsrf(event, auth, presented)
      await sessions.end(auth.id)
    }
    const cleared = clearedSessionCookie(event)
    return asJson ? new Response(null, { status: 204, headers: { 'set-cookie': cleared, 'cache-control': 'no-store' } }) : redirect('/', [cleared])
  })

  routes.api('GET', '/api/session', ({ auth }) => ({
    csrfToken: auth.kind === 'session' ? auth.session.csrfToken : null,
    expiresAt: auth.kind === 'session' ? auth.session.expiresAt : null,
    adminTokenSource: control.adminToken.source,
    plugins: control.plugins,
  }))
}
