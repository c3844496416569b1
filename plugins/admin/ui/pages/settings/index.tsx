// Settings: every setting (core and each plugin's), import of a gemini-balance .env, the proxies, the admin token.
import { useState } from 'preact/hooks'
import { PageHeader, Tabs } from '../../components/bits.tsx'
import { replaceQuery, type Route } from '../../router.ts'
import { AdminToken } from './admin-token.tsx'
import { SettingsForm } from './form.tsx'
import { ImportEnv } from './import-env.tsx'
import { Proxies } from './proxies.tsx'

const TABS = [
  { id: 'settings', label: 'Settings' },
  { id: 'import', label: 'Import .env' },
  { id: 'proxies', label: 'Proxies' },
  { id: 'admin', label: 'Admin token' },
] as const

type Tab = (typeof TABS)[number]['id']

export function SettingsPage({ route }: { route: Route }) {
  const [tab, setTab] = useState<Tab>(TABS.find((t) => t.id === route.query.get('tab'))?.id ?? 'settings')
  const choose = (next: Tab) => {
    setTab(next)
    replaceQuery({ tab: next === 'settings' ? undefined : next })
  }
  return (
    <div class="page" data-testid="settings-page">
      <PageHeader title="Settings" />
      <Tabs label="Settings sections" testid="settings-tab" active={tab} onChange={choose} items={[...TABS]} />
      {tab === 'settings' && <SettingsForm />}
      {tab === 'import' && <ImportEnv />}
      {tab === 'proxies' && <Proxies />}
      {tab === 'admin' && <AdminToken />}
    </div>
  )
}
