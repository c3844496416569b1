// Pages are paths (/keys, /logs?tab=errors&key=...) moved between with the history API; the server answers every
// page path with the same app, so a reload or a bookmark lands on the same page.
import { useEffect, useState } from 'preact/hooks'

export interface Route {
  path: string
  query: URLSearchParams
}

const CHANGED = 'gemgate:navigate'

export function currentRoute(): Route {
  return { path: location.pathname.replace(/\/+$/, '') || '/', query: new URLSearchParams(location.search) }
}

/** Goes to a page of the app (`replace`: without a new history entry, for filters kept in the address). */
export function navigate(url: string, { replace = false } = {}): void {
  if (url === location.pathname + location.search) return
  if (replace) history.replaceState(null, '', url)
  else history.pushState(null, '', url)
  dispatchEvent(new Event(CHANGED))
}

/** The current route, re-rendering on back/forward and on navigate(). */
export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute)
  useEffect(() => {
    const update = () => setRoute(currentRoute())
    addEventListener('popstate', update)
    addEventListener(CHANGED, update)
    return () => {
      removeEventListener('popstate', update)
      removeEventListener(CHANGED, update)
    }
  }, [])
  return route
}

/** Keeps page state in the address (`?tab=errors`) without a history entry per keystroke. */
export function replaceQuery(values: Record<string, string | undefined>): void {
  const query = new URLSearchParams(location.search)
  for (const [name, value] of Object.entries(values)) {
    if (value) query.set(name, value)
    else query.delete(name)
  }
  const search = query.toString()
  navigate(`${location.pathname}${search ? `?${search}` : ''}`, { replace: true })
}

/** For an <a href> inside the app: a plain click moves within the app, a modified one opens a new tab as usual. */
export function onLinkClick(event: MouseEvent): void {
  const link = event.currentTarget as HTMLAnchorElement
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
  event.preventDefault()
  navigate(link.pathname + link.search)
}
