// The console's two HTML documents: the login page (a plain form, which works without JavaScript) and the app's
// shell, which loads the bundled app. Both only reference the bundle's files by their content hash.
import type { AdminAssets } from '../assets.ts'
import { PRIVATE_HEADERS } from './http.ts'

/** Nothing from elsewhere, no inline script; styles set from script (charts) stay allowed. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

export function html(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/html; charset=utf-8', ...PRIVATE_HEADERS, 'content-security-policy': CSP, ...headers } })
}

export interface LoginPageOptions {
  /** Shown above the form: why the last attempt failed. */
  error?: string
  /** A note for the operator (no client token yet, where the admin token is). */
  hints: string[]
  /** Undefined when the app's bundle could not be made: the form still works, unstyled. */
  assets: AdminAssets | undefined
}

export function loginPage({ error, hints, assets }: LoginPageOptions): string {
  return document(
    'Log in',
    assets,
    `<main class="login">
  <form class="login-form" method="post" action="/auth">
    <h1>gemgate console</h1>
    ${error ? `<p class="login-error" role="alert">${escapeHtml(error)}</p>` : ''}
    <label for="auth_token">Admin token</label>
    <input id="auth_token" name="auth_token" type="password" autocomplete="current-password" required autofocus>
    <button type="submit">Log in</button>
    ${hints.map((hint) => `<p class="login-hint">${escapeHtml(hint)}</p>`).join('\n    ')}
  </form>
</main>`,
  )
}

/** Every page of the app is this document; the app reads the path and shows the page. */
export function appShell(assets: AdminAssets): string {
  return document('Console', assets, `<div id="app"></div>\n<script src="${assetUrl('app.js', assets)}" defer></script>`)
}

function document(title: string, assets: AdminAssets | undefined, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)} · gemgate</title>
${assets ? `<link rel="stylesheet" href="${assetUrl('app.css', assets)}">` : ''}
</head>
<body>
${body}
</body>
</html>
`
}

export function assetUrl(name: keyof AdminAssets, assets: AdminAssets): string {
  return `/admin/assets/${name}?v=${assets[name].hash}`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
