// PROXIES: the list (credentials masked) and a check of one, some or all of them, with latency.
import * as v from 'valibot'
import { badRequest } from '../internal/http.ts'
import type { AdminRoutes } from '../internal/route.ts'
import type { AdminDeps } from '../internal/types.ts'

const Check = v.object({
  indexes: v.optional(
    v.pipe(
      v.array(v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(0, 'must be 0 or more')), 'must be a list of indexes'),
      v.maxLength(1000),
    ),
  ),
})

export function registerProxyRoutes(routes: AdminRoutes, { control }: AdminDeps): void {
  routes.api('GET', '/api/proxies', () => ({ proxies: control.proxies.list() }))
  routes.api('POST', '/api/proxies/check', async (call) => {
    const { indexes } = await call.body(Check)
    const count = control.proxies.list().length
    const outside = indexes?.find((index) => index >= count)
    if (outside !== undefined)
      throw badRequest(`There are ${count} proxies; index ${outside} is none of them.`, { indexes: 'names a proxy that does not exist' })
    return control.proxies.check(indexes)
  })
}
