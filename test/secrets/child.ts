// For tests that spawn `npm start` themselves: the secrets and data dir the child got, and what it printed.

import { ENV_BINDINGS, parseEnvValue } from '../../core/config/env.ts'
import { record, registerDataDir, registerSecrets } from './recorder.ts'

/** Registers the child's secret variables (API_KEYS, ALLOWED_TOKENS, AUTH_TOKEN) and DATA_DIR; records its output. */
export function recordChild(env: Record<string, string | undefined>, output: { stdout?: string | Buffer | null; stderr?: string | Buffer | null } = {}): void {
  for (const binding of ENV_BINDINGS) {
    const raw = env[binding.env]
    if (!binding.secret || raw === undefined) continue
    registerSecrets([raw, ...secretValues(binding.kind, raw)])
  }
  if (env.DATA_DIR) registerDataDir(env.DATA_DIR)
  for (const [stream, text] of [
    ['stdout', output.stdout],
    ['stderr', output.stderr],
  ] as const) {
    if (text) record('output', Buffer.concat([Buffer.from(`== npm start ${stream}\n`), Buffer.from(text)]))
  }
}

function secretValues(kind: Parameters<typeof parseEnvValue>[0], raw: string): string[] {
  try {
    const value = parseEnvValue(kind, raw)
    return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string')
  } catch {
    return [] // a deliberately malformed variable: the raw value is registered as it is
  }
}
