// The keys page: list, detail, add by pasting, and the actions on one, some or all keys. Keys are named by id and
// shown masked; `/api/keys/reveal` is the one call that answers secrets.
import * as v from 'valibot'
import { badRequest, notFound } from '../internal/http.ts'
import { Ids, IdsOrAll, IdList, queryInt, queryText, optionalQueryInt } from '../internal/inputs.ts'
import { KEY_SORTS, listKeys, withUsage } from '../internal/key-list.ts'
import { findKeys } from '../internal/key-text.ts'
import type { AdminRoutes } from '../internal/route.ts'
import type { AdminDeps } from '../internal/types.ts'
import { DAY, HOUR } from '../internal/windows.ts'

const ListQuery = v.object({
  page: queryInt(1, 1_000_000, 1),
  limit: queryInt(1, 500, 50),
  search: queryText,
  state: v.optional(v.picklist(['all', 'healthy', 'cooling', 'disabled'], 'must be all, healthy, cooling or disabled'), 'all'),
  pool: queryText,
  sort: v.optional(v.picklist(KEY_SORTS, `must be one of ${KEY_SORTS.join(', ')}`), 'label'),
  order: v.optional(v.picklist(['asc', 'desc'], 'must be asc or desc'), 'asc'),
  // gemini-balance's keys page asks with these.
  status: v.optional(v.picklist(['all', 'valid', 'invalid'], 'must be all, valid or invalid')),
  fail_count_threshold: optionalQueryInt(0, 1_000_000),
})

const Add = v.object({
  text: v.pipe(v.string('must be text'), v.minLength(1, 'is empty')),
  pool: v.optional(v.pipe(v.string('must be a pool name'), v.regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'is not a pool name'))),
})

const Disable = v.object({ ids: IdList, reason: v.optional(v.pipe(v.string(), v.maxLength(200, 'is over 200 characters'))) })

export function registerKeyRoutes(routes: AdminRoutes, { control, logger }: AdminDeps): void {
  const keys = control.keys
  /** The ids of `{ids}`, or of every key for `{all: true}`. */
  const idsOf = (input: v.InferOutput<typeof IdsOrAll>) => ('ids' in input ? input.ids : keys.list().map((key) => key.id))

  routes.api('GET', '/api/keys', async (call) => {
    const query = call.query(ListQuery)
    const rows = await withUsage(control, keys.list())
    const state = query.status === 'valid' ? 'all' : query.status === 'invalid' ? 'disabled' : query.state
    const page = listKeys(query.status === 'valid' ? rows.filter((row) => row.state !== 'disabled') : rows, {
      ...query,
      state,
      minStrikes: query.fail_count_threshold,
    })
    if (query.status === undefined && query.fail_count_threshold === undefined) return page
    // gemini-balance's answer beside ours: its `keys` maps each (here masked) key to its failure count.
    return {
      ...page,
      keys: Object.fromEntries(page.items.map((row) => [row.label, row.strikes])),
      total_items: page.total,
      total_pages: page.pages,
      current_page: page.page,
    }
  })

  routes.api('GET', '/api/keys/:id', async (call) => {
    const id = call.param('id')
    const key = keys.get(id)
    if (!key) throw notFound('No key has this id.')
    const now = Date.now()
    const [row] = await withUsage(control, [key], now)
    const [models, hour, day, month, errors] = await Promise.all([
      control.stats.usage('model', now - DAY, now, { keyId: id, limit: 50 }),
      control.stats.totals(now - HOUR, now, { keyId: id }),
      control.stats.totals(now - DAY, now, { keyId: id }),
      control.stats.totals(now - 30 * DAY, now, { keyId: id }),
      control.logs.errors({ keyId: id }, { limit: 5 }),
    ])
    return { ...row!, models, periods: { hour, day, month }, recentErrors: errors.items }
  })

  routes.api('POST', '/api/keys', async (call) => {
    const { text, pool = 'gemini' } = await call.body(Add)
    const found = findKeys(text, pool)
    if (found.length === 0) {
      throw badRequest(`No ${pool === 'vertex-express' ? 'Vertex Express key (AQ.…)' : 'Gemini API key (AIza…)'} found in the text.`, {
        text: 'has no key in it',
      })
    }
    const unique = [...new Set(found)]
    const { added } = await keys.add(unique, pool)
    logger.info(`${added.length} key(s) added to pool ${pool} from the console`)
    return { added, duplicates: found.length - added.length, found: found.length }
  })

  routes.api('POST', '/api/keys/delete', async (call) => keys.remove((await call.body(Ids)).ids))
  routes.api('POST', '/api/keys/reset', async (call) => keys.reset(idsOf(await call.body(IdsOrAll))))
  routes.api('POST', '/api/keys/enable', async (call) => keys.enable(idsOf(await call.body(IdsOrAll))))
  routes.api('POST', '/api/keys/disable', async (call) => {
    const { ids, reason } = await call.body(Disable)
    return keys.disable(ids, reason || 'disabled in the console')
  })
  routes.api('POST', '/api/keys/verify', async (call) => ({ results: await keys.verify((await call.body(Ids)).ids) }))

  routes.api('POST', '/api/keys/reveal', async (call) => {
    const { ids } = await call.body(Ids)
    const revealed = keys.reveal(ids)
    // Who saw which keys, never the keys themselves.
    logger.info(
      `${Object.keys(revealed).length} key(s) revealed in the console: ${Object.keys(revealed)
        .map((id) => keys.get(id)?.label ?? id)
        .join(', ')}`,
    )
    return { keys: revealed }
  })
}
