// gemini-balance's key maintenance paths, kept for its users' scripts: the same paths, parameters and answer fields,
// but behind the console's session or the admin token (gemini-balance left them open to anyone), and with every key
// in an answer masked. Keys are named by the key itself here, as gemini-balance named them.
import * as v from 'valibot'
import { maskSecret } from 'gemgate'
import { AdminError, json, notFound } from '../internal/http.ts'
import { MAX_IDS } from '../internal/inputs.ts'
import type { AdminRoutes } from '../internal/route.ts'
import type { AdminDeps, KeyView } from '../internal/types.ts'

const Secret = v.pipe(v.string('must be a key'), v.minLength(1, 'is empty'), v.maxLength(512, 'is too long'))
const Secrets = v.object({ keys: v.pipe(v.array(Secret, 'must be a list of keys'), v.maxLength(MAX_IDS, `names over ${MAX_IDS} keys`)) })
const KeyType = v.object({ key_type: v.optional(v.picklist(['valid', 'invalid', 'all'], 'must be valid or invalid')) })
const SelectedReset = v.object({ ...Secrets.entries, ...KeyType.entries })

export function registerCompatKeyRoutes(routes: AdminRoutes, { control }: AdminDeps): void {
  const keys = control.keys
  /** The keys held among `secrets` and (masked) those no pool holds. */
  const resolve = (secrets: readonly string[]) => {
    const held: KeyView[] = []
    const unknown: string[] = []
    for (const secret of new Set(secrets)) {
      const key = keys.get(keys.idOf(secret))
      if (key) held.push(key)
      else unknown.push(maskSecret(secret))
    }
    return { held, unknown }
  }
  const heldKey = (secret: string) => {
    const key = keys.get(keys.idOf(secret))
    if (!key) throw notFound('No pool holds this key.')
    return key
  }
  const ofType = (type: string | undefined) => (key: KeyView) =>
    type === 'valid' ? key.state !== 'disabled' : type === 'invalid' ? key.state === 'disabled' : true

  routes.api('POST', '/gemini/v1beta/verify-key/:key', async (call) => {
    const key = heldKey(call.param('key'))
    const [result] = await keys.verify([key.id])
    if (!result) throw notFound('No pool holds this key.')
    return result.ok ? { status: 'valid', key: key.label, id: key.id } : { status: 'invalid', key: key.label, id: key.id, error: result.message }
  })

  routes.api('POST', '/gemini/v1beta/verify-selected-keys', async (call) => {
    const { held, unknown } = resolve((await call.body(Secrets)).keys)
    if (held.length + unknown.length === 0) throw new AdminError(400, 'No keys given.', { keys: 'names no key' })
    const results = await keys.verify(held.map((key) => key.id))
    const label = new Map(held.map((key) => [key.id, key.label]))
    const failed: Record<string, { error_message: string; error_code: number | null }> = {}
    for (const result of results) if (!result.ok) failed[label.get(result.id)!] = { error_message: result.message, error_code: result.status }
    for (const masked of unknown) failed[masked] = { error_message: 'No pool holds this key.', error_code: 404 }
    const valid = results.filter((result) => result.ok).map((result) => label.get(result.id)!)
    return {
      success: true,
      message: `${valid.length} valid, ${Object.keys(failed).length} invalid`,
      successful_keys: valid,
      failed_keys: failed,
      valid_count: valid.length,
      invalid_count: Object.keys(failed).length,
      results,
    }
  })

  routes.api('POST', '/gemini/v1beta/reset-fail-count/:key', (call) => {
    const key = heldKey(call.param('key'))
    keys.reset([key.id])
    return { success: true, message: `Failure count of ${key.label} reset.` }
  })

  routes.api('POST', '/gemini/v1beta/reset-all-fail-counts', (call) => {
    const { key_type } = call.query(KeyType)
    const { done } = keys.reset(
      keys
        .list()
        .filter(ofType(key_type))
        .map((key) => key.id),
    )
    return { success: true, message: `${done.length} key(s) reset.`, reset_count: done.length }
  })

  routes.api('POST', '/gemini/v1beta/reset-selected-fail-counts', async (call) => {
    const { keys: secrets, key_type } = await call.body(SelectedReset)
    if (secrets.length === 0) throw new AdminError(400, 'No keys given.', { keys: 'names no key' })
    const { held, unknown } = resolve(secrets)
    const { done } = keys.reset(held.filter(ofType(key_type)).map((key) => key.id))
    const answer = { success: unknown.length === 0, message: `${done.length} key(s) reset.`, reset_count: done.length, not_found_keys: unknown }
    return unknown.length === 0 ? answer : json(answer, 207)
  })

  routes.api('GET', '/api/keys/all', () => {
    const all = keys.list()
    return {
      valid_keys: all.filter((key) => key.state !== 'disabled').map((key) => key.label),
      invalid_keys: all.filter((key) => key.state === 'disabled').map((key) => key.label),
      total_count: all.length,
      keys: all.map(({ id, label, pool, state }) => ({ id, label, pool, state })),
    }
  })

  routes.api('DELETE', '/api/config/keys/:key', async (call) => {
    const key = heldKey(call.param('key'))
    const { refused } = await keys.remove([key.id])
    if (refused.length > 0) throw new AdminError(409, `${key.label} cannot be deleted here: ${refused[0]!.reason}`)
    return { success: true, message: `${key.label} deleted.` }
  })

  routes.api('POST', '/api/config/keys/delete-selected', async (call) => {
    const { held, unknown } = resolve((await call.body(Secrets)).keys)
    const { done, refused } = await keys.remove(held.map((key) => key.id))
    const label = new Map(held.map((key) => [key.id, key.label]))
    const answer = {
      success: done.length > 0,
      message: `${done.length} key(s) deleted.`,
      deleted_count: done.length,
      not_found_keys: unknown,
      refused_keys: Object.fromEntries(refused.map(({ id, reason }) => [label.get(id) ?? id, reason])),
    }
    return done.length > 0 ? answer : json({ ...answer, error: { message: 'No key was deleted.' } }, 400)
  })
}
