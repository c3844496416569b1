// Small pieces every page uses: badges, tabs, a progress bar, a figure card, a loading/error line.
import type { ComponentChildren } from 'preact'

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted'

export function Badge({ tone, children, title, testid }: { tone: Tone; children: ComponentChildren; title?: string; testid?: string }) {
  return (
    <span class={`badge badge-${tone}`} title={title} data-testid={testid}>
      {children}
    </span>
  )
}

export interface TabItem<T extends string> {
  id: T
  label: ComponentChildren
}

export function Tabs<T extends string>({
  items,
  active,
  onChange,
  label,
  testid,
}: {
  items: TabItem<T>[]
  active: T
  onChange(id: T): void
  label: string
  testid: string
}) {
  return (
    <div class="tabs" role="tablist" aria-label={label} data-testid={testid}>
      {items.map((item) => (
        <button
          key={item.id}
          type="button"
          role="tab"
          class="tab"
          aria-selected={item.id === active}
          data-testid={`${testid}-${item.id}`}
          onClick={() => onChange(item.id)}
        >
          {item.label}
        </button>
      ))}
    </div>
  )
}

export function Progress({ done, total, label, testid }: { done: number; total: number; label: string; testid: string }) {
  return (
    <div class="progress" data-testid={testid}>
      <label>
        <span>
          {label}: {done} / {total}
        </span>
        <progress max={total || 1} value={done} />
      </label>
    </div>
  )
}

export function Card({ title, children, testid, wide }: { title: ComponentChildren; children: ComponentChildren; testid?: string; wide?: boolean }) {
  return (
    <section class={`card${wide ? ' card-wide' : ''}`} data-testid={testid}>
      <h2 class="card-title">{title}</h2>
      {children}
    </section>
  )
}

/** While the first answer is on its way, or when it failed (with a retry). */
export function LoadState({ loading, error, retry }: { loading: boolean; error: string | undefined; retry(): void }) {
  if (error) {
    return (
      <p class="load-error" role="alert" data-testid="load-error">
        {error}{' '}
        <button type="button" class="button small" onClick={retry}>
          Retry
        </button>
      </p>
    )
  }
  return loading ? <p class="loading">Loading…</p> : null
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <h1>{title}</h1>
      {children && <div class="page-actions">{children}</div>}
    </header>
  )
}
