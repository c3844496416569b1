// When the browser refuses to copy (a console over plain HTTP, or the request took too long for the click to still
// count), the text is shown selected in a box for Ctrl+C / Cmd+C instead.
import { useEffect, useRef } from 'preact/hooks'
import { Modal } from './modal.tsx'

export function CopyBox({ title, text, onClose }: { title: string; text: string; onClose(): void }) {
  const area = useRef<HTMLTextAreaElement>(null)
  useEffect(() => area.current?.select(), [])
  return (
    <Modal title={title} onClose={onClose} testid="copy-box" wide>
      <p>The browser did not allow copying from here: the text is selected, copy it with Ctrl+C (⌘C on a Mac).</p>
      <textarea ref={area} class="mono" rows={10} readOnly value={text} aria-label={title} data-testid="copy-box-text" />
    </Modal>
  )
}
