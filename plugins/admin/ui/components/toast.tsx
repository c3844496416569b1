// Short notices after an action ("3 keys reset"), announced to screen readers, gone after a few seconds.
import { useEffect, useRef, useState } from 'preact/hooks'

export type ToastKind = 'info' | 'ok' | 'error'

interface Toast {
  id: number
  kind: ToastKind
  message: string
}

let toasts: Toast[] = []
let nextId = 1
const listeners = new Set<(toasts: Toast[]) => void>()

function publish(next: Toast[]): void {
  toasts = next
  for (const listener of listeners) listener(toasts)
}

export function toast(message: string, kind: ToastKind = 'info'): void {
  const id = nextId++
  publish([...toasts.slice(-4), { id, kind, message }])
  setTimeout(() => dismiss(id), kind === 'error' ? 10_000 : 5_000)
}

function dismiss(id: number): void {
  publish(toasts.filter((t) => t.id !== id))
}

/** Rendered once by the app shell. */
export function Toasts() {
  const [shown, setShown] = useState(toasts)
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    listeners.add(setShown)
    return () => void listeners.delete(setShown)
  }, [])
  const newest = shown[shown.length - 1]?.id
  useEffect(() => {
    // Shown again on each new toast: the top layer's last comes first, so it is above a dialog opened since.
    const host = ref.current
    if (!host?.showPopover) return
    if (host.matches(':popover-open')) host.hidePopover()
    host.showPopover()
  }, [newest])
  return (
    <div ref={ref} class="toasts" popover="manual" role="status" aria-live="polite">
      {shown.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`} data-testid="toast" data-kind={t.kind}>
          <span>{t.message}</span>
          <button type="button" class="icon-button" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  )
}
