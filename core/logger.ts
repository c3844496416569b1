import { createConsola, type ConsolaInstance } from 'consola'

/** LOG_LEVEL names gemini-balance used, mapped onto consola levels. */
const LEVELS: Record<string, number> = { debug: 4, info: 3, warning: 1, warn: 1, error: 0, critical: 0, silent: -999 }

const levelOf = (name: string) => LEVELS[name.toLowerCase()] ?? 3

/** The level of every logger made from one root, by the reporters array they share (withTag copies options shallowly). */
const thresholds = new WeakMap<object, { level: number }>()

/**
 * The gateway's logger. Its level can change while it runs (LOG_LEVEL saved in the console): consola copies the level
 * into each tagged logger, so the level is applied where the tagged loggers all meet, in their shared reporters.
 */
export function createLogger(level: string): ConsolaInstance {
  const logger = createConsola({ level: LEVELS.debug }).withTag('gemgate')
  const threshold = { level: levelOf(level) }
  const reporters = logger.options.reporters.map((reporter) => ({
    log: (entry: Parameters<typeof reporter.log>[0], ctx: Parameters<typeof reporter.log>[1]) => {
      if (entry.level <= threshold.level) reporter.log(entry, ctx)
    },
  }))
  logger.options.reporters = reporters
  thresholds.set(reporters, threshold)
  return logger
}

/** Changes the level of `logger` and of every logger tagged from it; a logger createLogger did not make is left as it is. */
export function setLogLevel(logger: ConsolaInstance, level: string): void {
  const threshold = thresholds.get(logger.options.reporters)
  if (threshold) threshold.level = levelOf(level)
}
