// Between a setting's value and what its input holds: text for everything but the toggles (a list one item a line,
// JSON indented), parsed back as typed so the server validates values, not strings.
import type { SettingView } from '../../types.ts'

/** An input's content: text, or a toggle's state. */
export type Draft = string | boolean

export type Parsed = { value: unknown; error?: undefined } | { value?: undefined; error: string }

/** What the input starts with. A secret starts empty: its masked value is the placeholder, typing replaces it. */
export function draftOf(setting: SettingView): Draft {
  const { type, value } = setting
  if (type === 'boolean') return value === true
  if (setting.secret || value === undefined || value === null) return ''
  if (type === 'list') return Array.isArray(value) ? value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join('\n') : ''
  if (type === 'json') return JSON.stringify(value, null, 2)
  return String(value)
}

export function parseDraft(setting: SettingView, draft: Draft): Parsed {
  if (typeof draft === 'boolean') return { value: draft }
  switch (setting.type) {
    case 'number': {
      const text = draft.trim()
      const value = Number(text)
      return text === '' || !Number.isFinite(value) ? { error: 'a number' } : { value }
    }
    case 'list':
      return {
        value: draft
          .split(/\r?\n/)
          .map((line) => line.trim())
          .filter(Boolean),
      }
    case 'json':
      try {
        return { value: JSON.parse(draft) }
      } catch (error) {
        return { error: `not JSON: ${error instanceof Error ? error.message : String(error)}` }
      }
    default:
      return { value: draft }
  }
}

/** The value differs from the effective one (a secret differs as soon as anything is typed). */
export function isChange(setting: SettingView, draft: Draft): boolean {
  if (setting.secret) return draft !== '' && draft !== false
  if (draft === draftOf(setting)) return false
  const parsed = parseDraft(setting, draft)
  return parsed.error !== undefined || JSON.stringify(parsed.value) !== JSON.stringify(setting.value ?? null)
}

export const SOURCE_NAMES: Record<SettingView['source'], string> = {
  default: 'default',
  file: 'gateway.config.ts',
  console: 'console',
  env: 'environment',
}
