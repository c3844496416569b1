// The signed-in session, for the pages that need more than the API wrapper does (logout's CSRF field, where the
// admin token comes from, which plugins are on).
import { createContext } from 'preact'
import { useContext } from 'preact/hooks'
import type { Session } from './types.ts'

export const SessionContext = createContext<Session | undefined>(undefined)

export function useSession(): Session {
  const session = useContext(SessionContext)
  if (!session) throw new Error('useSession outside the app')
  return session
}
