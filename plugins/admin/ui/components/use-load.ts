// Data a page shows from the API: loading, the last answer, the last error, and reload. An answer that arrives after
// a newer request was made is dropped, so quick filter changes never show stale rows.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { errorMessage } from '../api.ts'
import { toast } from './toast.tsx'

export interface Loaded<T> {
  data: T | undefined
  error: string | undefined
  loading: boolean
  reload(): Promise<void>
  /** Replace the shown data (after an action answered with the new state). */
  setData(data: T): void
}

export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [loading, setLoading] = useState(true)
  const latest = useRef(0)
  const loader = useRef(load)
  loader.current = load

  const reload = useCallback(async () => {
    const call = ++latest.current
    setLoading(true)
    try {
      const answer = await loader.current()
      if (call !== latest.current) return
      setData(answer)
      setError(undefined)
    } catch (caught) {
      if (call === latest.current) setError(errorMessage(caught))
    } finally {
      if (call === latest.current) setLoading(false)
    }
  }, [])

  // The caller names what the load depends on, as for useEffect.
  useEffect(() => void reload(), deps)
  return { data, error, loading, reload, setData }
}

/** Calls `tick` every `ms` while the tab is visible and `active` holds. */
export function useInterval(tick: () => void, ms: number, active = true): void {
  const callback = useRef(tick)
  callback.current = tick
  useEffect(() => {
    if (!active) return
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') callback.current()
    }, ms)
    return () => clearInterval(timer)
  }, [ms, active])
}

/** `value`, once it has stopped changing for `ms` (search boxes). */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms)
    return () => clearTimeout(timer)
  }, [value, ms])
  return settled
}

/**
 * A page's actions, one at a time: `busy` while one runs (buttons disable on it), and a failure becomes an error toast.
 * `run` never rejects; `after` runs once the action ended, failed or not (a reload).
 */
export function useAction(after?: () => void): { busy: boolean; run(work: () => Promise<void>): Promise<void> } {
  const [busy, setBusy] = useState(false)
  const run = async (work: () => Promise<void>) => {
    setBusy(true)
    try {
      await work()
    } catch (error) {
      toast(errorMessage(error), 'error')
    } finally {
      setBusy(false)
      after?.()
    }
  }
  return { busy, run }
}
