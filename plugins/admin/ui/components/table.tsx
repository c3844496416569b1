// The console's tables: sortable headers, row selection across pages, and on a phone each row becomes a card whose
// cells carry their column's name (data-label, shown by the style sheet).
import type { ComponentChildren } from 'preact'
import { useEffect, useRef } from 'preact/hooks'

export interface Column<T> {
  id: string
  label: string
  render(row: T): ComponentChildren
  /** The API's sort name, when the column sorts. */
  sort?: string
  /** Extra class for the cells ('num' right-aligns figures). */
  class?: string
}

export type SortOrder = 'asc' | 'desc'

export interface TableProps<T> {
  columns: Column<T>[]
  rows: readonly T[]
  rowKey(row: T): string
  testid: string
  /** data-testid of each row; its key is in data-id. */
  rowTestid: string
  /** Extra data-* attributes of a row (its state, for tests and styles). */
  rowData?(row: T): Record<string, string>
  /** Names a row for its checkbox ("Select AIza...x9Qk"). */
  rowLabel(row: T): string
  selection?: { selected: ReadonlySet<string>; onChange(next: Set<string>): void }
  sort?: { by: string; order: SortOrder; onSort(by: string): void }
  empty: ComponentChildren
  busy?: boolean
}

export function DataTable<T>({ columns, rows, rowKey, testid, rowTestid, rowData, rowLabel, selection, sort, empty, busy }: TableProps<T>) {
  const keys = rows.map(rowKey)
  const selectedHere = selection ? keys.filter((key) => selection.selected.has(key)).length : 0
  const toggleAll = () => {
    if (!selection) return
    const next = new Set(selection.selected)
    for (const key of keys) {
      if (selectedHere === keys.length) next.delete(key)
      else next.add(key)
    }
    selection.onChange(next)
  }
  const toggle = (key: string) => {
    if (!selection) return
    const next = new Set(selection.selected)
    if (next.has(key)) next.delete(key)
    else next.add(key)
    selection.onChange(next)
  }
  return (
    <div class="table-wrap" aria-busy={busy}>
      <table class="table" data-testid={testid}>
        <thead>
          <tr>
            {selection && (
              <th class="select">
                <Checkbox
                  label="Select every row on this page"
                  checked={keys.length > 0 && selectedHere === keys.length}
                  indeterminate={selectedHere > 0 && selectedHere < keys.length}
                  onChange={toggleAll}
                  testid={`${testid}-select-page`}
                />
              </th>
            )}
            {columns.map((column) => (
              <th
                key={column.id}
                class={column.class}
                aria-sort={sort && column.sort === sort.by ? (sort.order === 'asc' ? 'ascending' : 'descending') : undefined}
              >
                {sort && column.sort ? (
                  <button type="button" class="sort" data-testid={`sort-${column.sort}`} onClick={() => sort.onSort(column.sort!)}>
                    {column.label}
                    <span aria-hidden="true">{column.sort === sort.by ? (sort.order === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                  </button>
                ) : (
                  column.label
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr class="empty">
              <td colSpan={columns.length + (selection ? 1 : 0)}>{empty}</td>
            </tr>
          )}
          {rows.map((row, i) => {
            const key = keys[i]!
            const label = rowLabel(row)
            return (
              <tr key={key} data-testid={rowTestid} data-id={key} {...prefixData(rowData?.(row))}>
                {selection && (
                  <td class="select">
                    <Checkbox label={`Select ${label}`} checked={selection.selected.has(key)} onChange={() => toggle(key)} testid="row-select" />
                  </td>
                )}
                {columns.map((column) => (
                  <td key={column.id} class={column.class} data-label={column.label}>
                    {column.render(row)}
                  </td>
                ))}
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}

function prefixData(data: Record<string, string> | undefined): Record<string, string> {
  const attributes: Record<string, string> = {}
  for (const [name, value] of Object.entries(data ?? {})) attributes[`data-${name}`] = value
  return attributes
}

interface CheckboxProps {
  label: string
  checked: boolean
  indeterminate?: boolean
  onChange(): void
  testid: string
}

export function Checkbox({ label, checked, indeterminate = false, onChange, testid }: CheckboxProps) {
  const ref = useRef<HTMLInputElement>(null)
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = indeterminate
  }, [indeterminate])
  return <input ref={ref} type="checkbox" aria-label={label} checked={checked} onChange={onChange} data-testid={testid} />
}
