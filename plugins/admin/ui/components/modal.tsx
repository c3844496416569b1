// Dialogs on the native <dialog> (focus kept inside, Escape closes, the page behind inert), as a centred modal or a
// side drawer, and a confirm() that resolves to the operator's answer.
import type { ComponentChildren } from 'preact'
import { useEffect, useId, useRef, useState } from 'preact/hooks'

export interface ModalProps {
  title: ComponentChildren
  onClose(): void
  children: ComponentChildren
  /** A panel from the right, for details beside a list. */
  drawer?: boolean
  wide?: boolean
  testid?: string
  /** Buttons at the bottom. */
  footer?: ComponentChildren
}

export function Modal({ title, onClose, children, drawer, wide, testid, footer }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  useEffect(() => {
    const dialog = ref.current
    dialog?.showModal()
    return () => dialog?.close()
  }, [])
  return (
    <dialog
      ref={ref}
      class={`modal${drawer ? ' drawer' : ''}${wide ? ' wide' : ''}`}
      aria-labelledby={titleId}
      data-testid={testid}
      onCancel={(event) => {
        event.preventDefault()
        onClose()
      }}
      onClick={(event) => {
        // A click on the backdrop lands on the dialog itself; its content fills it otherwise.
        if (event.target === ref.current) onClose()
      }}
    >
      <div class="modal-content">
        <header class="modal-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" class="icon-button" aria-label="Close" data-testid="modal-close" onClick={onClose}>
            ×
          </button>
        </header>
        <div class="modal-body">{children}</div>
        {footer && <footer class="modal-footer">{footer}</footer>}
      </div>
    </dialog>
  )
}

export interface ConfirmOptions {
  title: string
  message: ComponentChildren
  confirmLabel: string
  /** Deleting, disabling: the button says so in red. */
  danger?: boolean
}

interface Pending extends ConfirmOptions {
  resolve(ok: boolean): void
}

let show: ((pending: Pending | undefined) => void) | undefined

/** Asks the operator; resolves true when they confirm. Needs <ConfirmHost/> in the page. */
export function confirmAction(options: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    if (!show) return resolve(false)
    show({ ...options, resolve })
  })
}

export function ConfirmHost() {
  const [pending, setPending] = useState<Pending | undefined>(undefined)
  useEffect(() => {
    show = setPending
    return () => void (show = undefined)
  }, [])
  if (!pending) return null
  const answer = (ok: boolean) => {
    setPending(undefined)
    pending.resolve(ok)
  }
  return (
    <Modal
      title={pending.title}
      onClose={() => answer(false)}
      testid="confirm"
      footer={
        <>
          <button type="button" class="button" data-testid="confirm-cancel" onClick={() => answer(false)}>
            Cancel
          </button>
          <button type="button" class={`button ${pending.danger ? 'danger' : 'primary'}`} data-testid="confirm-ok" onClick={() => answer(true)}>
            {pending.confirmLabel}
          </button>
        </>
      }
    >
      <div class="confirm-message">{pending.message}</div>
    </Modal>
  )
}
