import { createConsola, type ConsolaInstance } from 'consola'

/** LOG_LEVEL names gemini-balance used, mapped onto consola levels. */
const LEVELS: Record<string, number> = { debug: 4, info: 3, warning: 1, warn: 1, error: 0, critical: 0, silent: -999 }

export function createLogger(level: string): ConsolaInstance {
  return createConsola({ level: LEVELS[level.toLowerCase()] ?? 3 }).withTag('gemgate')
}
