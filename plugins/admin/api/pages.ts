// The login page, the app's pages (one shell for every path), and the bundled app's files.
import type { ConsolaInstance } from 'consola'
import { loadAdminAssets, type AdminAssetName, type AdminAssets } from '../assets.ts'
import { notFound, redirect } from '../internal/http.ts'
import { appShell, html, loginPage } from '../internal/pages.ts'
import type { AdminRoutes } from '../internal/route.ts'
import type { AdminDeps } from '../internal/types.ts'

/** The app's pages; /config is gemini-balance's name for the settings page. */
export const PAGES = ['/keys', '/dashboard', '/settings', '/logs', '/tokens', '/jobs', '/config'] as const

/** Why the last login failed, by the `?error=` the form's redirect carries. */
const LOGIN_ERRORS: Record<string, string> = {
  invalid: 'Wrong admin token.',
  expired: 'Your session is over: log in again.',
}

export function registerPageRoutes(routes: AdminRoutes, deps: AdminDeps): void {
  const renderLogin = createLoginRenderer(deps)

  routes.open('GET', '/', async (event) => {
    if (await deps.guard.authenticate(event).catch(() => undefined)) return redirect('/keys')
    return html(await renderLogin(LOGIN_ERRORS[event.url.searchParams.get('error') ?? '']))
  })

  for (const path of PAGES) {
    routes.page(path, async () => {
      const assets = await assetsOrNothing(deps.logger)
      return assets
        ? html(appShell(assets))
        : html('<!doctype html><title>gemgate</title><p>The console could not be loaded; the gateway log says why.</p>', 500)
    })
  }

  routes.open('GET', '/admin/assets/:name', async (event) => {
    const name = event.url.pathname.slice('/admin/assets/'.length)
    const assets = await loadAdminAssets()
    if (!Object.hasOwn(assets, name)) throw notFound('No such asset.')
    const asset = assets[name as AdminAssetName]
    // A URL with the current hash names these exact bytes for good; any other is checked again each time.
    const cache = event.url.searchParams.get('v') === asset.hash ? 'public, max-age=31536000, immutable' : 'no-cache'
    return new Response(asset.body, {
      headers: { 'content-type': asset.type, 'cache-control': cache, etag: `"${asset.hash}"`, 'x-content-type-options': 'nosniff' },
    })
  })
}

/** The login page with the hints that apply now, and `error` when the last attempt failed. */
export function createLoginRenderer({ control, logger }: AdminDeps): (error?: string) => Promise<string> {
  return async (error) => {
    const hints: string[] = []
    if (control.adminToken.source === 'generated')
      hints.push('Use the admin token the gateway printed in its log when it first started (only its hash is kept).')
    if ((await control.tokens.list()).length === 0)
      hints.push('No client token exists yet: create one on the Tokens page after logging in; until then every API request is refused.')
    return loginPage({ error, hints, assets: await assetsOrNothing(logger) })
  }
}

/** The bundle, or undefined (logged) when it cannot be made: the login form must work even then. */
function assetsOrNothing(logger: ConsolaInstance): Promise<AdminAssets | undefined> {
  return loadAdminAssets().catch((error: unknown) => {
    logger.error("the console's app could not be loaded:", error)
    return undefined
  })
}
