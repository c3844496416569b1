import { randomBytes } from 'node:crypto'

/**
 * Tool-use ids carry what Gemini needs back on the next turn, because an id is the one thing every Anthropic
 * client returns verbatim (in the assistant's tool_use and in the user's tool_result), whatever it does with
 * thinking blocks:
 *
 *   toolu_<core>[__ts_<signature as base64url>]
 *   core = gem-<Gemini's functionCall.id>   when Gemini issued one (Gemini 3), echoed back as functionCall.id /
 *                                           functionResponse.id
 *        | <24 random alphanumerics>        when it did not (2.x): no id goes back upstream
 *
 * The suffix is the function call part's `thoughtSignature` (Gemini 3 refuses a function-call turn without it).
 * Everything stays inside `[A-Za-z0-9_-]`, the alphabet Anthropic uses for tool ids. Ids the gateway did not
 * make (a conversation started elsewhere) are accepted and simply carry nothing.
 */
const PREFIX = 'toolu_'
const SIGNATURE = '__ts_'
const GEMINI = 'gem-'
const SAFE_GEMINI_ID = /^[A-Za-z0-9-]{1,128}$/
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

export function toolUseId(callId: unknown, signature: string | undefined): string {
  const core = typeof callId === 'string' && SAFE_GEMINI_ID.test(callId) ? GEMINI + callId : randomCore()
  // Signatures are canonical base64 (padded); anything else could not ride in an id unchanged and is left out.
  return signature && isCanonicalBase64(signature) ? `${PREFIX}${core}${SIGNATURE}${toBase64Url(signature)}` : PREFIX + core
}

export interface ParsedToolUseId {
  /** Gemini's own functionCall.id, when Gemini issued the call. */
  callId?: string
  thoughtSignature?: string
}

export function parseToolUseId(id: string): ParsedToolUseId {
  if (!id.startsWith(PREFIX)) return {}
  let core = id.slice(PREFIX.length)
  const parsed: ParsedToolUseId = {}
  const at = core.indexOf(SIGNATURE)
  if (at >= 0) {
    const encoded = core.slice(at + SIGNATURE.length)
    if (encoded) parsed.thoughtSignature = fromBase64Url(encoded)
    core = core.slice(0, at)
  }
  if (core.startsWith(GEMINI) && core.length > GEMINI.length) parsed.callId = core.slice(GEMINI.length)
  return parsed
}

function randomCore(): string {
  const bytes = randomBytes(24)
  let core = ''
  for (const byte of bytes) core += ALPHANUMERIC[byte % ALPHANUMERIC.length]
  return core
}

const isCanonicalBase64 = (text: string) => BASE64.test(text) && text.length % 4 === 0

const toBase64Url = (base64: string) => base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

function fromBase64Url(text: string): string {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/')
  return base64 + '='.repeat((4 - (base64.length % 4)) % 4)
}
