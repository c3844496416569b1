// Every setting, grouped, validated as typed (by the server, with the config loader's schema) and saved together.
// Only the settings the operator changed are sent: a masked secret left alone is never sent back.
import { useEffect, useState } from 'preact/hooks'
import { ApiError, errorMessage, get, post, put } from '../../api.ts'
import { LoadState } from '../../components/bits.tsx'
import { confirmAction } from '../../components/modal.tsx'
import { toast } from '../../components/toast.tsx'
import { useDebounced, useLoad } from '../../components/use-load.ts'
import type { SettingsSaveResult, SettingView } from '../../types.ts'
import { SettingField } from './field.tsx'
import { draftOf, isChange, parseDraft, type Draft } from './values.ts'

interface SettingsAnswer {
  settings: SettingView[]
  precedence: string
}

export function SettingsForm() {
  const loaded = useLoad(() => get<SettingsAnswer>('/api/settings'), [])
  const [drafts, setDrafts] = useState<Record<string, Draft>>({})
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({})
  const [filter, setFilter] = useState('')
  const [saving, setSaving] = useState(false)
  const [restartNeeded, setRestartNeeded] = useState<string[]>([])
  const settings = loaded.data?.settings ?? []
  const byPath = new Map(settings.map((setting) => [setting.path, setting]))

  // What would be sent: the changed settings that parse; the ones that do not carry their own error.
  const changes: Record<string, unknown> = {}
  const localErrors: Record<string, string> = {}
  for (const [path, draft] of Object.entries(drafts)) {
    const setting = byPath.get(path)
    if (!setting || !isChange(setting, draft)) continue
    const parsed = parseDraft(setting, draft)
    if (parsed.error !== undefined) localErrors[path] = parsed.error
    else changes[path] = parsed.value
  }
  const changeCount = Object.keys(changes).length + Object.keys(localErrors).length

  const typed = useDebounced(JSON.stringify(changes), 400)
  useEffect(() => {
    if (typed === '{}') return setServerErrors({})
    let current = true
    post<{ errors: Record<string, string> }>('/api/settings/validate', { changes: JSON.parse(typed) })
      .then((answer) => current && setServerErrors(answer.errors ?? {}))
      .catch((error) => current && toast(errorMessage(error), 'error'))
    return () => void (current = false)
  }, [typed])

  const save = async (toSave: Record<string, unknown>, done: string) => {
    setSaving(true)
    try {
      const result = await put<SettingsSaveResult>('/api/settings', { changes: toSave })
      if (Object.keys(result.errors ?? {}).length) return setServerErrors(result.errors)
      toast(`${done}${result.restartNeeded.length ? `; ${result.restartNeeded.join(', ')} apply after a restart` : ''}`, 'ok')
      setRestartNeeded((paths) => [...new Set([...paths, ...result.restartNeeded])])
      setDrafts((current) => Object.fromEntries(Object.entries(current).filter(([path]) => !(path in toSave))))
      setServerErrors({})
      await loaded.reload()
    } catch (error) {
      const errors = saveErrors(error)
      if (errors) setServerErrors(errors)
      else toast(errorMessage(error), 'error')
    } finally {
      setSaving(false)
    }
  }

  const reset = async (setting: SettingView) => {
    const ok = await confirmAction({
      title: `Reset ${setting.path}?`,
      message: 'The value saved in the console is removed: the one from gateway.config.ts, or the default, applies again.',
      confirmLabel: 'Reset',
    })
    if (ok) await save({ [setting.path]: null }, `${setting.path} reset`)
  }

  const needle = filter.trim().toLowerCase()
  const shown = needle ? settings.filter((s) => [s.path, s.doc, s.env ?? '', s.group].some((text) => text.toLowerCase().includes(needle))) : settings
  const groups = [...new Set(shown.map((setting) => setting.group))]
  const errors = { ...serverErrors, ...localErrors }
  const canSave = changeCount > 0 && Object.keys(localErrors).length === 0 && !saving

  return (
    <form
      class="settings-form"
      data-testid="settings-form"
      onSubmit={(event) => {
        event.preventDefault()
        if (canSave) void save(changes, `Saved ${Object.keys(changes).length} ${Object.keys(changes).length === 1 ? 'setting' : 'settings'}`)
      }}
    >
      <LoadState loading={loaded.loading && !loaded.data} error={loaded.error} retry={loaded.reload} />
      {loaded.data && (
        <>
          <p class="note" data-testid="settings-precedence">
            {loaded.data.precedence}
          </p>
          {restartNeeded.length > 0 && (
            <p class="note warn" role="status" data-testid="settings-restart">
              Saved, applied at the next start: {restartNeeded.join(', ')}.
            </p>
          )}
          <div class="toolbar">
            <label class="field inline grow">
              <span class="visually-hidden">Find a setting</span>
              <input
                type="search"
                placeholder="Find a setting (name, variable, words)"
                value={filter}
                onInput={(event) => setFilter(event.currentTarget.value)}
                data-testid="settings-filter"
              />
            </label>
          </div>
          <nav class="group-index" aria-label="Setting groups">
            {groups.map((group) => (
              <a key={group} href={`#group-${slug(group)}`}>
                {group}
              </a>
            ))}
          </nav>
          {groups.map((group) => (
            <section key={group} class="card setting-group" id={`group-${slug(group)}`} data-testid="settings-group" data-group={group}>
              <h2 class="card-title">{group}</h2>
              {shown
                .filter((setting) => setting.group === group)
                .map((setting) => (
                  <SettingField
                    key={setting.path}
                    setting={setting}
                    draft={drafts[setting.path] ?? draftOf(setting)}
                    changed={setting.path in changes || setting.path in localErrors}
                    error={errors[setting.path]}
                    onDraft={(draft) => setDrafts((current) => ({ ...current, [setting.path]: draft }))}
                    onReset={() => void reset(setting)}
                  />
                ))}
            </section>
          ))}
          {groups.length === 0 && <p class="muted">No setting matches.</p>}
        </>
      )}
      <div class={`save-bar${changeCount ? ' visible' : ''}`} role="region" aria-label="Unsaved changes">
        <span data-testid="settings-changes">
          {changeCount} unsaved {changeCount === 1 ? 'change' : 'changes'}
          {Object.keys(errors).length > 0 && <strong class="stat-bad"> · {Object.keys(errors).length} to fix</strong>}
        </span>
        <button type="button" class="button" disabled={!changeCount || saving} onClick={() => setDrafts({})} data-testid="settings-discard">
          Discard
        </button>
        <button type="submit" class="button primary" disabled={!canSave} data-testid="settings-save">
          {saving ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  )
}

/** A refused save names the settings at fault: as SettingsSaveResult.errors, or as the error's fields. */
function saveErrors(error: unknown): Record<string, string> | undefined {
  if (!(error instanceof ApiError) || error.status !== 400) return undefined
  const body = error.body as Partial<SettingsSaveResult> | undefined
  if (body?.errors && Object.keys(body.errors).length) return body.errors
  return Object.keys(error.fields).length ? error.fields : undefined
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-')
}
