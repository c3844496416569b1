// A change made in one instance's console (settings, keys, client tokens) applies in every instance: the instance that
// made it announces it on the bus, and the others reload at once. Messages are not kept, so each instance also polls
// the version the console moves in the database: often while messages cannot be relied on (no Redis, or Redis down),
// rarely while they can.
import type { ConsolaInstance } from 'consola'
import type { SharedState } from './index.ts'

export interface SettingsWatchOptions {
  /** The number the console moves on every change (SettingsStore.version). */
  version: () => Promise<number>
  /** Applies what is stored now (the gateway's reload). Never called twice at once. */
  onChange: () => Promise<void>
  /** The version read before the running config was: a change made since is applied at once. */
  initial?: number
  logger: ConsolaInstance
  /** How often the version is read while Redis is configured but unreachable. Default 1 s. */
  pollMs?: number
  /** How often it is read otherwise: in case a message was lost, or without Redis. Default 15 s. */
  idlePollMs?: number
}

export interface SettingsWatch {
  /** Call after this instance changed something (and moved the version): the others reload; this one not again. */
  announce(): Promise<void>
  stop(): void
}

const CHANNEL = 'settings'

export function watchSettings(shared: SharedState, options: SettingsWatchOptions): SettingsWatch {
  const { version, onChange, logger, pollMs = 1000, idlePollMs = 15_000 } = options
  /** The version this instance runs with; undefined until first read. */
  let seen = options.initial
  let lastRead = 0

  let reloading: Promise<void> | undefined
  let again = false
  const reload = () => {
    if (reloading) return void (again = true)
    reloading = (async () => {
      do {
        again = false
        await onChange().catch((error) => logger.warn('applying a change made on another instance failed:', error))
      } while (again)
    })().finally(() => (reloading = undefined))
  }

  const read = async () => {
    lastRead = Date.now()
    const current = await version().catch((error) => {
      logger.debug('reading the settings version failed:', error)
      return undefined
    })
    if (current === undefined) return
    if (seen !== undefined && current !== seen) reload()
    seen = current
  }
  void read()
  const timer = setInterval(() => {
    // Fast only while Redis is configured but down; without REDIS_URL this is one instance (or instances that chose
    // not to share messages), and a change made elsewhere arriving within idlePollMs is enough.
    const every = shared.status() === 'degraded' ? pollMs : idlePollMs
    if (Date.now() - lastRead >= every) void read()
  }, pollMs).unref()
  const stopRecovering = shared.onRecover(() => void read())
  const unsubscribe = shared.bus.subscribe(CHANNEL, (message) => {
    const announced = (message as { version?: unknown } | null)?.version
    if (typeof announced === 'number') {
      if (announced === seen) return
      seen = announced
    }
    reload()
  })

  return {
    async announce() {
      const current = await version().catch(() => undefined)
      if (current !== undefined) seen = current
      shared.bus.publish(CHANNEL, { version: current ?? null })
    },
    stop() {
      clearInterval(timer)
      stopRecovering()
      unsubscribe()
    },
  }
}
