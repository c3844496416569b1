// Console sessions: a random id in the browser's cookie, and beside it on the server (the plugin's state: memory, or
// Redis shared by every instance) only the id's SHA-256, so a leaked state dump logs no one in.
import { createHash, randomBytes } from 'node:crypto'
import type { Storage } from 'unstorage'

export interface Session {
  /** Sent back in `x-csrf-token` (or a form's `csrf` field) by every call that changes something. */
  csrfToken: string
  /** Epoch ms. */
  expiresAt: number
  createdAt: number
  /** The admin token's fingerprint at login: once the token changes, the session is over. */
  fingerprint: string
}

export interface SessionStore {
  /** A new session; `id` goes into the cookie and nowhere else. */
  create(): Promise<{ id: string; session: Session }>
  /** The live session of a cookie's id; undefined (and removed) once expired or made under another admin token. */
  get(id: string): Promise<Session | undefined>
  end(id: string): Promise<void>
  /** Removes every session that is over; returns how many. */
  sweep(): Promise<number>
}

export interface SessionStoreOptions {
  expireSeconds: number
  /** The admin token's current fingerprint. */
  fingerprint: () => string
  now?: () => number
}

const BASE = 'sessions'
/** 32 random bytes, base64url. */
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/

export function createSessionStore(state: Storage, { expireSeconds, fingerprint, now = () => Date.now() }: SessionStoreOptions): SessionStore {
  const keyOf = (id: string) => `${BASE}:${createHash('sha256').update(id).digest('hex')}`
  const isOver = (session: Session | null): boolean => !session || session.expiresAt <= now() || session.fingerprint !== fingerprint()

  return {
    async create() {
      const id = randomBytes(32).toString('base64url')
      const at = now()
      const session: Session = {
        csrfToken: randomBytes(32).toString('base64url'),
        createdAt: at,
        expiresAt: at + expireSeconds * 1000,
        fingerprint: fingerprint(),
      }
      // Redis drops it by itself at expiry; in memory the sweep job does.
      await state.setItem(keyOf(id), session, { ttl: expireSeconds })
      return { id, session }
    },
    async get(id) {
      if (!ID_PATTERN.test(id)) return undefined
      const key = keyOf(id)
      const session = await state.getItem<Session>(key)
      if (!isOver(session)) return session!
      if (session) await state.removeItem(key)
      return undefined
    },
    async end(id) {
      if (ID_PATTERN.test(id)) await state.removeItem(keyOf(id))
    },
    async sweep() {
      let removed = 0
      for (const key of await state.getKeys(BASE)) {
        if (!isOver(await state.getItem<Session>(key))) continue
        await state.removeItem(key)
        removed++
      }
      return removed
    },
  }
}
