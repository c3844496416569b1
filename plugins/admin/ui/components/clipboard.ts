// Copying a revealed key or a new token. The Clipboard API needs a secure context (HTTPS or localhost); a console
// reached over plain HTTP on a LAN falls back to a selected textarea and the copy command.

export async function copyText(text: string): Promise<boolean> {
  if (window.isSecureContext && navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text)
      return true
    } catch {
      // Denied (no user gesture left after a slow request): try the old way.
    }
  }
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.position = 'fixed'
  area.style.opacity = '0'
  document.body.append(area)
  area.select()
  try {
    // Deprecated, yet the only copy that works outside a secure context.
    return document.execCommand('copy')
  } finally {
    area.remove()
  }
}
