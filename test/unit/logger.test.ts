import { afterEach, describe, expect, it, vi } from 'vitest'
import { aboutRequest, createLogger, setLogLevel, writesJson } from '../../core/logger.ts'

/** What the logger printed (consola writes to stdout and stderr). */
function capture(): () => string {
  let printed = ''
  const write = (chunk: string | Uint8Array) => {
    printed += String(chunk)
    return true
  }
  vi.spyOn(process.stdout, 'write').mockImplementation(write)
  vi.spyOn(process.stderr, 'write').mockImplementation(write)
  return () => printed
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, any>)

describe('JSON log lines', () => {
  afterEach(() => vi.restoreAllMocks())

  it('are one object per line: time, level, tag, message; the request id and the error when there are', () => {
    const printed = capture()
    const logger = createLogger('debug', 'json')
    logger.withTag('keys').warn('key AIza...0001 cooling down for', 30, 'seconds')
    logger.error(aboutRequest('5f1c7c1e-request-id', 'request failed', new Error('boom')))
    logger.debug({ note: 'an object' }, 'and text')
    const [warn, error, debug] = lines(printed())
    expect(warn).toEqual({ time: expect.any(String), level: 'warn', tag: 'gemgate:keys', message: 'key AIza...0001 cooling down for 30 seconds' })
    expect(new Date(warn!.time).toISOString()).toBe(warn!.time)
    expect(error).toMatchObject({ level: 'error', tag: 'gemgate', message: 'request failed', requestId: '5f1c7c1e-request-id' })
    expect(error!.error).toMatchObject({ name: 'Error', message: 'boom', stack: expect.stringContaining('logger.test.ts') })
    expect(debug).toMatchObject({ level: 'debug', message: "{ note: 'an object' } and text" })
  })

  it('keep the live log level of the loggers tagged from the root', () => {
    const printed = capture()
    const root = createLogger('warning', 'json')
    const tagged = root.withTag('jobs')
    tagged.info('quiet')
    setLogLevel(root, 'info')
    tagged.info('loud')
    expect(lines(printed()).map((line) => line.message)).toEqual(['loud'])
  })

  it('are chosen by LOG_FORMAT=json, or by NODE_ENV=production when LOG_FORMAT is auto', () => {
    expect(writesJson('json', {})).toBe(true)
    expect(writesJson('auto', { NODE_ENV: 'production' })).toBe(true)
    expect(writesJson('auto', { NODE_ENV: 'development' })).toBe(false)
    expect(writesJson('auto', {})).toBe(false)
    expect(writesJson('pretty', { NODE_ENV: 'production' })).toBe(false)
  })
})

describe('readable log lines', () => {
  afterEach(() => vi.restoreAllMocks())

  it('name the request a line is about', () => {
    const printed = capture()
    createLogger('info', 'pretty').warn(aboutRequest('5f1c7c1e-request-id', 'upload failed:', 'timeout'))
    const text = printed()
    expect(text).toContain('[request 5f1c7c1e-request-id] upload failed: timeout')
    expect(() => JSON.parse(text)).toThrow()
  })
})

describe('the log level', () => {
  afterEach(() => vi.restoreAllMocks())

  it('changes while running, for the loggers already tagged from the root too (LOG_LEVEL saved in the console)', () => {
    const root = createLogger('WARNING')
    const tagged = root.withTag('keys')
    const printed = capture()
    tagged.info('quiet-1')
    tagged.warn('loud-1')
    setLogLevel(root, 'info')
    tagged.info('loud-2')
    root.withTag('later').info('loud-3')
    setLogLevel(root, 'silent')
    tagged.error('quiet-2')
    const text = printed()
    for (const word of ['loud-1', 'loud-2', 'loud-3']) expect(text).toContain(word)
    for (const word of ['quiet-1', 'quiet-2']) expect(text).not.toContain(word)
  })
})
