// Paging controls: numbered pages with a page size (keys), and older/newer for keyset-paged logs.

export const PAGE_SIZES = [20, 50, 100, 500] as const

export interface PagerProps {
  page: number
  pages: number
  total: number
  limit: number
  onPage(page: number): void
  onLimit(limit: number): void
  noun: string
}

export function Pager({ page, pages, total, limit, onPage, onLimit, noun }: PagerProps) {
  const first = total === 0 ? 0 : (page - 1) * limit + 1
  const last = Math.min(total, page * limit)
  return (
    <nav class="pager" aria-label={`${noun} pages`} data-testid="pager">
      <span class="pager-range" data-testid="pager-range">
        {first}–{last} of {total} {noun}
      </span>
      <label class="pager-size">
        <span>Per page</span>
        <select value={String(limit)} onChange={(event) => onLimit(Number(event.currentTarget.value))} data-testid="pager-size">
          {PAGE_SIZES.map((size) => (
            <option key={size} value={String(size)}>
              {size}
            </option>
          ))}
        </select>
      </label>
      <span class="pager-buttons">
        <button type="button" class="button small" disabled={page <= 1} onClick={() => onPage(1)} aria-label="First page">
          «
        </button>
        <button type="button" class="button small" disabled={page <= 1} onClick={() => onPage(page - 1)} data-testid="pager-prev">
          Previous
        </button>
        <span class="pager-page" aria-current="page">
          {page} / {Math.max(pages, 1)}
        </span>
        <button type="button" class="button small" disabled={page >= pages} onClick={() => onPage(page + 1)} data-testid="pager-next">
          Next
        </button>
        <button type="button" class="button small" disabled={page >= pages} onClick={() => onPage(pages)} aria-label="Last page">
          »
        </button>
      </span>
    </nav>
  )
}

export interface KeysetPagerProps {
  /** Pages back from the newest: 0 on the first. */
  depth: number
  hasOlder: boolean
  onNewest(): void
  onNewer(): void
  onOlder(): void
  summary: string
}

export function KeysetPager({ depth, hasOlder, onNewest, onNewer, onOlder, summary }: KeysetPagerProps) {
  return (
    <nav class="pager" aria-label="Log pages" data-testid="keyset-pager">
      <span class="pager-range">{summary}</span>
      <span class="pager-buttons">
        <button type="button" class="button small" disabled={depth === 0} onClick={onNewest} data-testid="logs-newest">
          Newest
        </button>
        <button type="button" class="button small" disabled={depth === 0} onClick={onNewer} data-testid="logs-newer">
          Newer
        </button>
        <button type="button" class="button small" disabled={!hasOlder} onClick={onOlder} data-testid="logs-older">
          Older
        </button>
      </span>
    </nav>
  )
}
