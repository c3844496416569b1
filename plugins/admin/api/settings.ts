// Settings: every one with its value, type and source; checked and saved through the same schema as the config
// loader, applied without a restart. Also gemini-balance's `/api/config`, which names settings by their variables.
import * as v from 'valibot'
import { AdminError, badRequest } from '../internal/http.ts'
import { realChanges } from '../internal/setting-changes.ts'
import type { AdminRoutes } from '../internal/route.ts'
import type { AdminDeps, SettingView } from '../internal/types.ts'

export const PRECEDENCE =
  'default < gateway.config.ts < saved in the console < environment (a value the environment sets is pinned: shown here, never overridden)'

/** An object of names to values (not a list, which valibot's record takes too). */
const byName = (what: string) =>
  v.pipe(
    v.custom<unknown>((value) => !Array.isArray(value), what),
    v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(200)), v.unknown(), what),
  )
const Changes = v.object({ changes: byName('must map setting paths to values') })
const EnvText = v.object({ env: v.pipe(v.string('must be the text of a .env file'), v.maxLength(1024 * 1024, 'is over 1 MB')) })
const ConfigBody = byName('must map variable names to values')

export function registerSettingRoutes(routes: AdminRoutes, { control, logger }: AdminDeps): void {
  const settings = control.settings
  /** A save's answer, or 400 with each refused value as a field. */
  const saved = async (save: () => ReturnType<typeof settings.save>, nameOf = (path: string) => path) => {
    const result = await save()
    const refused = Object.entries(result.errors)
    if (refused.length > 0)
      throw new AdminError(400, 'Nothing was saved: some values were refused.', Object.fromEntries(refused.map(([path, why]) => [nameOf(path), why])))
    if (result.applied.length > 0) logger.info(`settings saved in the console: ${result.applied.join(', ')}`)
    return result
  }

  routes.api('GET', '/api/settings', () => ({ settings: settings.describe(), precedence: PRECEDENCE }))

  routes.api('POST', '/api/settings/validate', async (call) => ({ errors: settings.validate((await call.body(Changes)).changes) }))

  routes.api('PUT', '/api/settings', async (call) => {
    const changes = realChanges(settings.describe(), (await call.body(Changes)).changes)
    return saved(() => settings.save(changes))
  })

  routes.api('POST', '/api/settings/import/preview', async (call) => settings.previewImport((await call.body(EnvText)).env))

  routes.api('POST', '/api/settings/import', async (call) => {
    const { env } = await call.body(EnvText)
    return saved(() => settings.importEnv(env))
  })

  // gemini-balance: the settings under their variable names, secrets masked.
  routes.api('GET', '/api/config', () => configOf(settings.describe()))

  routes.api('PUT', '/api/config', async (call) => {
    const views = settings.describe()
    const pathOf = new Map(views.flatMap((view) => (view.env ? [[view.env, view.path] as const] : [])))
    const envOf = new Map(views.flatMap((view) => (view.env ? [[view.path, view.env] as const] : [])))
    const body = await call.body(ConfigBody)
    const unknown = Object.keys(body).filter((name) => !pathOf.has(name))
    if (unknown.length > 0) throw badRequest('Unknown settings.', Object.fromEntries(unknown.map((name) => [name, 'is not a setting gemgate knows'])))
    const nameOf = (path: string) => envOf.get(path) ?? path
    const changes = realChanges(views, Object.fromEntries(Object.entries(body).map(([name, value]) => [pathOf.get(name)!, value])), nameOf)
    await saved(() => settings.save(changes), nameOf)
    return configOf(settings.describe())
  })
}

function configOf(views: readonly SettingView[]): Record<string, unknown> {
  return Object.fromEntries(views.flatMap((view) => (view.env ? [[view.env, view.value]] : [])))
}
