import { defineMiddleware, type Middleware } from 'h3'

const ALLOW = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
  'access-control-max-age': '600',
}

/**
 * Browser clients (chat web apps) call the API from any origin with their token in a header, so the API allows
 * every origin without credentials (cookies are never accepted on API routes). Requests without an Origin
 * header (SDKs, servers) skip this entirely.
 */
export function corsMiddleware(): Middleware {
  // Not an async function: requests without Origin (nearly all) pass through without an extra promise.
  return defineMiddleware((event, next) => {
    if (!event.req.headers.has('origin')) return next()
    if (event.req.method === 'OPTIONS' && event.req.headers.has('access-control-request-method')) {
      const requested = event.req.headers.get('access-control-request-headers')
      return new Response(null, { status: 204, headers: { ...ALLOW, ...(requested ? { 'access-control-allow-headers': requested } : {}) } })
    }
    return Promise.resolve(next()).then((response) => {
      if (response instanceof Response) {
        for (const [name, value] of Object.entries(ALLOW)) response.headers.set(name, value)
        response.headers.set('access-control-expose-headers', '*')
      }
      return response
    })
  })
}
