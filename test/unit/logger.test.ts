import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger, setLogLevel } from '../../core/logger.ts'

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
