// Changes to save, as sent by a form or a script that read the settings first: what it sent back unchanged is not a
// change, and a secret sent back as its mask is refused (saving it would replace the secret with its own mask).
import { badRequest } from './http.ts'
import type { SettingView } from './types.ts'

/** The changes that change something; throws 400 naming `nameOf(path)` for a masked secret. */
export function realChanges(
  views: readonly SettingView[],
  changes: Record<string, unknown>,
  nameOf: (path: string) => string = (path) => path,
): Record<string, unknown> {
  const byPath = new Map(views.map((view) => [view.path, view]))
  const kept: Record<string, unknown> = {}
  const masked: Record<string, string> = {}
  for (const [path, value] of Object.entries(changes)) {
    const view = byPath.get(path)
    if (view && value !== null && sameJson(value, view.value)) continue
    if (view?.secret && holdsMask(value, view.value)) masked[nameOf(path)] = 'is the masked value: send the secret in full, or leave it out'
    else kept[path] = value
  }
  if (Object.keys(masked).length > 0) throw badRequest('A secret was sent back masked.', masked)
  return kept
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** Whether `value` (or an item of it) is a mask: the current value's own, or anything with a mask's dots in it. */
function holdsMask(value: unknown, current: unknown): boolean {
  const masks = new Set((Array.isArray(current) ? current : [current]).filter((item): item is string => typeof item === 'string'))
  const items = Array.isArray(value) ? value : [value]
  return items.some((item) => typeof item === 'string' && (masks.has(item) || item.includes('••••')))
}
