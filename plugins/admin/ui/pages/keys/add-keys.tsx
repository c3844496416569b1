// Adding keys by pasting any text (a .env line, a JSON list, a chat message): the server finds the keys in it by
// pattern and drops the ones it already holds.
import { useState } from 'preact/hooks'
import { errorMessage, post } from '../../api.ts'
import { Modal } from '../../components/modal.tsx'
import type { KeyView } from '../../types.ts'

interface AddResult {
  added: KeyView[]
  duplicates: number
  found: number
}

/** The pools keys can be added to: the gateway's own, those holding keys, and Vertex Express's when it is on. */
export function addablePools(pools: readonly string[], plugins: readonly string[]): string[] {
  return [...new Set(['gemini', ...pools, ...(plugins.includes('vertex-express') ? ['vertex-express'] : [])])]
}

export function AddKeys({ pools, onClose, onAdded }: { pools: string[]; onClose(): void; onAdded(): void }) {
  const [text, setText] = useState('')
  const [pool, setPool] = useState('gemini')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)
  const [result, setResult] = useState<AddResult | undefined>(undefined)

  const submit = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const answer = await post<AddResult>('/api/keys', { text, pool })
      setResult(answer)
      // The pasted keys leave the page once they are stored.
      setText('')
      if (answer.added.length) onAdded()
    } catch (caught) {
      setError(errorMessage(caught))
    } finally {
      setBusy(false)
    }
  }

  return (
    <Modal title="Add keys" onClose={onClose} testid="add-keys" wide>
      <form onSubmit={submit} class="stack">
        <label class="field">
          <span>Paste text containing keys</span>
          <textarea
            rows={8}
            value={text}
            onInput={(event) => setText(event.currentTarget.value)}
            placeholder={
              pool === 'vertex-express'
                ? 'AQ.… keys anywhere in the text'
                : 'AIza… keys anywhere in the text: one per line, comma-separated, a JSON list, a .env line'
            }
            spellcheck={false}
            autocomplete="off"
            data-testid="add-keys-text"
            class="mono"
          />
        </label>
        {pools.length > 1 && (
          <label class="field">
            <span>Pool</span>
            <select value={pool} onChange={(event) => setPool(event.currentTarget.value)} data-testid="add-keys-pool">
              {pools.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        )}
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        {result && (
          <div class="result" role="status" data-testid="add-keys-result">
            <p>
              Found <strong data-testid="add-keys-found">{result.found}</strong>, added <strong data-testid="add-keys-added">{result.added.length}</strong>,{' '}
              <strong data-testid="add-keys-duplicates">{result.duplicates}</strong> {result.duplicates === 1 ? 'duplicate' : 'duplicates'} skipped.
            </p>
            {result.added.length > 0 && (
              <ul class="plain-list mono">
                {result.added.slice(0, 20).map((key) => (
                  <li key={key.id}>
                    {key.label} <span class="muted">({key.pool})</span>
                  </li>
                ))}
                {result.added.length > 20 && <li class="muted">and {result.added.length - 20} more</li>}
              </ul>
            )}
          </div>
        )}
        <div class="form-actions">
          <button type="button" class="button" onClick={onClose}>
            Close
          </button>
          <button type="submit" class="button primary" disabled={busy || !text.trim()} data-testid="add-keys-submit">
            {busy ? 'Adding…' : 'Add keys'}
          </button>
        </div>
      </form>
    </Modal>
  )
}
