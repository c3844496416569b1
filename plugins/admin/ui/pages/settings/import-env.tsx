// Moving from gemini-balance: paste its .env, see what each variable would change, then apply. Values pinned by this
// gateway's own environment are shown and skipped.
import { useState } from 'preact/hooks'
import { post } from '../../api.ts'
import { Badge } from '../../components/bits.tsx'
import { formatValue } from '../../components/format.ts'
import { toast } from '../../components/toast.tsx'
import { useAction } from '../../components/use-load.ts'
import type { ImportPreview, SettingsSaveResult } from '../../types.ts'

export function ImportEnv() {
  const [env, setEnv] = useState('')
  const [preview, setPreview] = useState<ImportPreview | undefined>(undefined)
  const [result, setResult] = useState<SettingsSaveResult | undefined>(undefined)
  const { busy, run } = useAction()
  const showPreview = () =>
    run(async () => {
      setResult(undefined)
      setPreview(await post<ImportPreview>('/api/settings/import/preview', { env }))
    })
  const apply = () =>
    run(async () => {
      const answer = await post<SettingsSaveResult>('/api/settings/import', { env })
      setResult(answer)
      if (Object.keys(answer.errors).length === 0) {
        toast(`Imported ${answer.applied.length} ${answer.applied.length === 1 ? 'setting' : 'settings'}`, 'ok')
        setPreview(undefined)
        setEnv('')
      }
    })
  const applicable = preview?.changes.filter((change) => !change.pinned).length ?? 0
  // Nothing is saved when any value is refused: the file is fixed first.
  const unparsed = Object.keys(preview?.errors ?? {}).length

  return (
    <section class="card" data-testid="import-env">
      <h2 class="card-title">Import a gemini-balance .env</h2>
      <label class="field">
        <span>The .env file's text</span>
        <textarea
          class="mono"
          rows={10}
          value={env}
          spellcheck={false}
          autocomplete="off"
          placeholder={'API_KEYS=["AIza…"]\nALLOWED_TOKENS=["sk-…"]\nMAX_FAILURES=3'}
          onInput={(event) => {
            setEnv(event.currentTarget.value)
            setPreview(undefined)
          }}
          data-testid="import-env-text"
        />
      </label>
      <div class="form-actions">
        <button type="button" class="button" disabled={busy || !env.trim()} onClick={() => void showPreview()} data-testid="import-preview-button">
          Preview the changes
        </button>
        <button
          type="button"
          class="button primary"
          disabled={busy || !preview || applicable === 0 || unparsed > 0}
          onClick={() => void apply()}
          data-testid="import-apply"
        >
          Apply {applicable || ''} {applicable === 1 ? 'change' : 'changes'}
        </button>
      </div>
      {preview && (
        <div class="stack" data-testid="import-preview">
          {preview.changes.length === 0 ? (
            <p class="muted">Nothing would change.</p>
          ) : (
            <div class="table-wrap">
              <table class="table compact">
                <thead>
                  <tr>
                    <th>Variable</th>
                    <th>Setting</th>
                    <th>Now</th>
                    <th>After</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {preview.changes.map((change) => (
                    <tr key={change.path} data-testid="import-change" data-pinned={String(change.pinned)}>
                      <td class="mono" data-label="Variable">
                        {change.env}
                      </td>
                      <td class="mono" data-label="Setting">
                        {change.path}
                      </td>
                      <td class="mono value" data-label="Now">
                        {formatValue(change.from)}
                      </td>
                      <td class="mono value" data-label="After">
                        {formatValue(change.to)}
                      </td>
                      <td data-label="">{change.pinned && <Badge tone="warn">pinned by the environment: skipped</Badge>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {preview.unknown.length > 0 && (
            <p class="note" data-testid="import-unknown">
              Not known here (ignored): <span class="mono">{preview.unknown.join(', ')}</span>
            </p>
          )}
          {unparsed > 0 && <p class="form-error">Fix or remove the variables below that do not parse, then preview again.</p>}
          <ErrorList errors={preview.errors} testid="import-errors" />
        </div>
      )}
      {result && <ErrorList errors={result.errors} testid="import-result-errors" />}
    </section>
  )
}

function ErrorList({ errors, testid }: { errors: Record<string, string>; testid: string }) {
  const entries = Object.entries(errors)
  if (entries.length === 0) return null
  return (
    <ul class="plain-list form-error" role="alert" data-testid={testid}>
      {entries.map(([name, why]) => (
        <li key={name}>
          <span class="mono">{name}</span>: {why}
        </li>
      ))}
    </ul>
  )
}
