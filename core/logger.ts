import { formatWithOptions } from 'node:util'
import { createConsola, type ConsolaInstance, type ConsolaReporter, type InputLogObject, type LogObject } from 'consola'

/** LOG_LEVEL names gemini-balance used, mapped onto consola levels. */
const LEVELS: Record<string, number> = { debug: 4, info: 3, warning: 1, warn: 1, error: 0, critical: 0, silent: -999 }

const levelOf = (name: string) => LEVELS[name.toLowerCase()] ?? 3

/**
 * LOG_FORMAT: `json` writes one JSON object per line (for a log collector), `pretty` consola's readable lines (in
 * colour on a terminal), `auto` JSON when NODE_ENV is production and readable lines otherwise.
 */
export type LogFormat = 'auto' | 'json' | 'pretty'

/** The level of every logger made from one root, by the reporters array they share (withTag copies options shallowly). */
const thresholds = new WeakMap<object, { level: number }>()

/**
 * The gateway's logger. Its level can change while it runs (LOG_LEVEL saved in the console): consola copies the level
 * into each tagged logger, so the level is applied where the tagged loggers all meet, in their shared reporters.
 */
export function createLogger(level: string, format: LogFormat = 'auto'): ConsolaInstance {
  const logger = createConsola({ level: LEVELS.debug }).withTag('gemgate')
  const threshold = { level: levelOf(level) }
  const printers = writesJson(format) ? [jsonReporter] : logger.options.reporters.map(showingRequestId)
  const reporters = printers.map((printer) => ({
    log: (entry: LogObject, ctx: { options: ConsolaInstance['options'] }) => {
      if (entry.level <= threshold.level) printer.log(entry, ctx)
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

export function writesJson(format: LogFormat, env: Record<string, string | undefined> = process.env): boolean {
  return format === 'json' || (format === 'auto' && env.NODE_ENV === 'production')
}

/**
 * A log line about one request: `logger.error(aboutRequest(ctx.id, 'request failed', error))`. It carries the request's
 * id, the request_id of its rows in the request and error logs: a JSON line has it as `requestId`, a readable line
 * starts with it.
 */
export function aboutRequest(requestId: string, message: string, ...args: unknown[]): InputLogObject & { requestId: string } {
  return { message, args, requestId }
}

/** Readable lines name the request a line is about in front of it. */
function showingRequestId(printer: ConsolaReporter): ConsolaReporter {
  return {
    log(entry, ctx) {
      const id = entry.requestId
      printer.log(typeof id === 'string' ? { ...entry, args: [`[request ${id}]`, ...entry.args] } : entry, ctx)
    },
  }
}

/** One JSON object per line on stdout, whatever the level: one stream keeps the lines in order for a collector. */
const jsonReporter: ConsolaReporter = {
  log(entry) {
    process.stdout.write(`${jsonLine(entry)}\n`)
  },
}

const LEVEL_NAMES = ['error', 'warn', 'info', 'info', 'debug', 'trace']

/**
 * `{"time","level","tag","message"}`, plus `requestId` for a line about a request and `error` (name, message, stack)
 * for the first Error logged with it; the other arguments are formatted into the message as readable lines show them.
 */
export function jsonLine(entry: LogObject): string {
  let error: Error | undefined
  const parts: unknown[] = []
  for (const arg of entry.args) {
    if (error === undefined && arg instanceof Error) error = arg
    else parts.push(arg)
  }
  const line: Record<string, unknown> = {
    time: entry.date.toISOString(),
    level: entry.type === 'fatal' ? 'fatal' : (LEVEL_NAMES[entry.level] ?? 'info'),
    tag: entry.tag,
    message: parts.length > 0 ? formatWithOptions({ colors: false, breakLength: Infinity }, ...parts) : (error?.message ?? ''),
  }
  if (typeof entry.requestId === 'string') line.requestId = entry.requestId
  if (error) line.error = { name: error.name, message: error.message, stack: error.stack }
  return JSON.stringify(line)
}
