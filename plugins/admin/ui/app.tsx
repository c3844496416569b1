// The console's shell: a header with the pages (a menu button on a phone) and logout, the current page, and the
// hosts of toasts and confirm dialogs.
import type { ComponentType } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { ConfirmHost } from './components/modal.tsx'
import { MenuIcon } from './components/icons.tsx'
import { Toasts } from './components/toast.tsx'
import { DashboardPage } from './pages/dashboard/index.tsx'
import { JobsPage } from './pages/jobs.tsx'
import { KeysPage } from './pages/keys/index.tsx'
import { LogsPage } from './pages/logs/index.tsx'
import { SettingsPage } from './pages/settings/index.tsx'
import { TokensPage } from './pages/tokens.tsx'
import { navigate, onLinkClick, useRoute, type Route } from './router.ts'
import { SessionContext } from './session.ts'
import type { Session } from './types.ts'

interface Page {
  path: string
  label: string
  component: ComponentType<{ route: Route }>
}

const PAGES: Page[] = [
  { path: '/keys', label: 'Keys', component: KeysPage },
  { path: '/dashboard', label: 'Dashboard', component: DashboardPage },
  { path: '/logs', label: 'Logs', component: LogsPage },
  { path: '/tokens', label: 'Tokens', component: TokensPage },
  { path: '/jobs', label: 'Jobs', component: JobsPage },
  { path: '/settings', label: 'Settings', component: SettingsPage },
]

/** gemini-balance's name for the settings page. */
const ALIASES: Record<string, string> = { '/config': '/settings' }

export function App({ session }: { session: Session }) {
  const route = useRoute()
  const [menuOpen, setMenuOpen] = useState(false)
  const path = ALIASES[route.path] ?? route.path
  const page = PAGES.find((p) => p.path === path)
  useEffect(() => {
    // The server serves the app at each page's path only; anything else (a stale link) lands on the keys.
    if (!page) navigate('/keys', { replace: true })
  }, [page])
  const current = page ?? PAGES[0]!
  useEffect(() => {
    document.title = `${current.label} · gemgate`
    setMenuOpen(false)
  }, [current])

  return (
    <SessionContext.Provider value={session}>
      <a class="skip-link" href="#main">
        Skip to the page
      </a>
      <header class="topbar">
        <a class="brand" href="/keys" onClick={onLinkClick}>
          gemgate
        </a>
        <button
          type="button"
          class="icon-button menu-button"
          aria-expanded={menuOpen}
          aria-controls="nav"
          aria-label="Menu"
          data-testid="nav-toggle"
          onClick={() => setMenuOpen((open) => !open)}
        >
          <MenuIcon />
        </button>
        <nav id="nav" class={`nav${menuOpen ? ' open' : ''}`} aria-label="Console" data-testid="nav">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={p.path} aria-current={p === current ? 'page' : undefined} onClick={onLinkClick} data-testid={`nav-${p.path.slice(1)}`}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
          <form method="post" action="/logout" class="logout">
            <input type="hidden" name="csrf" value={session.csrfToken} />
            <button type="submit" class="button small" data-testid="logout">
              Log out
            </button>
          </form>
        </nav>
      </header>
      <main id="main" class="main" tabIndex={-1}>
        <current.component key={current.path} route={route} />
      </main>
      <Toasts />
      <ConfirmHost />
    </SessionContext.Provider>
  )
}
