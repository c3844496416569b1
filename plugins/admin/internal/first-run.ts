// The first start with nothing set: the gateway made an admin token, and this is the one time anyone sees it.
import type { ConsolaInstance } from 'consola'
import type { PluginSettings } from 'gemgate'
import type { AdminTokenControl } from './types.ts'

/** Prints the admin token made at this start, if one was, with the console's address; once per process. */
export function announceFirstRun(adminToken: AdminTokenControl, settings: PluginSettings, logger: ConsolaInstance): void {
  const token = adminToken.takeCreated()
  if (token === undefined) return
  logger.box(
    [
      'First run: no admin token was set, so the gateway made one.',
      '',
      `Console:      ${consoleUrl(settings.host, settings.port)}`,
      `Admin token:  ${token}`,
      '',
      `Shown this once: only its SHA-256 is kept (${adminToken.file ?? settings.dataDir}); delete that file and restart for a new one.`,
      'Log in, paste your Gemini keys and create a client token (API requests are refused until one exists).',
      'Set AUTH_TOKEN to choose the admin token yourself.',
    ].join('\n'),
  )
}

/** Where a browser on this machine reaches the console: a wildcard address is not one to browse to. */
export function consoleUrl(host: string, port: number): string {
  const name = host === '' || host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host
  return `http://${name}:${port}/`
}
