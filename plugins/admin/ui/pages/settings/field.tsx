// One setting: its input by type, where its value comes from, and why it cannot be changed here when it is pinned.
import { Badge, type Tone } from '../../components/bits.tsx'
import { formatValue } from '../../components/format.ts'
import type { SettingView } from '../../types.ts'
import { SOURCE_NAMES, type Draft } from './values.ts'

export interface FieldProps {
  setting: SettingView
  draft: Draft
  changed: boolean
  error: string | undefined
  onDraft(draft: Draft): void
  /** Back to the value from gateway.config.ts or the default (saved values only). */
  onReset(): void
}

const SOURCE_TONES: Record<SettingView['source'], Tone> = { default: 'muted', file: 'info', console: 'ok', env: 'warn' }

export function SettingField({ setting, draft, changed, error, onDraft, onReset }: FieldProps) {
  const id = `setting-input-${setting.path}`
  const errorId = `${id}-error`
  return (
    <div
      class={`setting${changed ? ' changed' : ''}${error ? ' invalid' : ''}`}
      data-testid={`setting-${setting.path}`}
      data-source={setting.source}
      data-pinned={String(setting.pinned)}
    >
      <div class="setting-head">
        <label for={id} class="setting-path mono">
          {setting.path}
        </label>
        <Badge tone={SOURCE_TONES[setting.source]} title="Where the value in effect comes from" testid="setting-source">
          {SOURCE_NAMES[setting.source]}
        </Badge>
        {setting.env && <code class="env-name">{setting.env}</code>}
        {!setting.live && (
          <Badge tone="warn" title="Saved at once, applied at the next start">
            needs restart
          </Badge>
        )}
        {changed && <Badge tone="info">unsaved</Badge>}
      </div>
      {setting.doc && <p class="setting-doc">{setting.doc}</p>}
      <SettingInput setting={setting} draft={draft} id={id} describedBy={error ? errorId : undefined} onDraft={onDraft} />
      {error && (
        <p class="form-error" id={errorId} role="alert" data-testid="setting-error">
          {error}
        </p>
      )}
      {setting.pinned && (
        <p class="setting-note" data-testid="setting-pinned">
          Pinned by the environment{setting.env ? ` (${setting.env})` : ''}: the environment wins over the console. Change it there and restart.
        </p>
      )}
      {setting.source === 'console' && !setting.pinned && (
        <button type="button" class="button small link" onClick={onReset} data-testid="setting-reset">
          Reset to the value from gateway.config.ts or the default
        </button>
      )}
    </div>
  )
}

interface InputProps {
  setting: SettingView
  draft: Draft
  id: string
  describedBy: string | undefined
  onDraft(draft: Draft): void
}

function SettingInput({ setting, draft, id, describedBy, onDraft }: InputProps) {
  const common = { id, disabled: setting.pinned, 'aria-describedby': describedBy, 'data-testid': 'setting-input' }
  const text = typeof draft === 'string' ? draft : ''
  const onText = (event: { currentTarget: { value: string } }) => onDraft(event.currentTarget.value)
  switch (setting.type) {
    case 'boolean':
      return (
        <label class="toggle">
          <input {...common} type="checkbox" role="switch" checked={draft === true} onChange={(event) => onDraft(event.currentTarget.checked)} />
          <span>{draft === true ? 'on' : 'off'}</span>
        </label>
      )
    case 'enum':
      return (
        <select {...common} value={text} onChange={onText}>
          {(setting.options ?? []).map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      )
    case 'list':
    case 'json': {
      const replaces = setting.type === 'list' ? '(typing replaces every item)' : '(type to replace)'
      const placeholder = setting.secret ? `${masked(setting.value)}\n${replaces}` : setting.type === 'list' ? 'one item a line' : undefined
      return (
        <textarea
          {...common}
          class="mono"
          rows={Math.min(12, Math.max(3, text.split('\n').length + 1))}
          value={text}
          placeholder={placeholder}
          spellcheck={false}
          autocomplete="off"
          onInput={onText}
        />
      )
    }
    case 'number':
      return <input {...common} type="number" inputMode="decimal" step="any" value={text} onInput={onText} />
    default:
      return setting.secret ? (
        <input
          {...common}
          type="password"
          autocomplete="new-password"
          value={text}
          placeholder={`${masked(setting.value)} (type to replace)`}
          onInput={onText}
        />
      ) : (
        <input {...common} type="text" value={text} spellcheck={false} onInput={onText} />
      )
  }
}

/** A masked secret as the server sent it (each item of a list on its line). */
function masked(value: unknown): string {
  if (Array.isArray(value)) return value.length ? value.map(String).join('\n') : '(empty)'
  return value === undefined || value === null || value === '' ? '(not set)' : formatValue(value)
}
