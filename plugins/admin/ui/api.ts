// The one way the app talks to the admin API: JSON both ways, the session's CSRF token on every call that changes
// something, and back to the login page when the session is over.
import type { Session } from './types.ts'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Field path → why, when the server named the fields at fault. */
    readonly fields: Record<string, string> = {},
    /** The answer's JSON, for callers that read more than the message. */
    readonly body: unknown = undefined,
  ) {
    super(message)
  }
}

type Query = Record<string, string | number | boolean | undefined | null>

let csrfToken = ''

/** Reads the session (and its CSRF token); every later call that changes something sends that token. */
export async function loadSession(): Promise<Session> {
  const session = await request<Session>('GET', '/api/session')
  csrfToken = session.csrfToken
  return session
}

export function csrf(): string {
  return csrfToken
}

export const get = <T>(path: string, query?: Query): Promise<T> => request<T>('GET', withQuery(path, query))
export const post = <T>(path: string, body: unknown = {}): Promise<T> => request<T>('POST', path, body)
export const put = <T>(path: string, body: unknown): Promise<T> => request<T>('PUT', path, body)
export const del = <T>(path: string, body: unknown): Promise<T> => request<T>('DELETE', path, body)

/** `path?a=1&b=x`, leaving out empty values. */
export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value))
  }
  const text = params.toString()
  return text ? `${path}?${text}` : path
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' })
  if (response.status === 401) {
    location.assign('/')
    // The page is going away: a promise that never settles shows no error in the meantime.
    return new Promise<T>(() => {})
  }
  const text = await response.text()
  let data: unknown
  try {
    data = text ? JSON.parse(text) : undefined
  } catch {
    data = text
  }
  if (!response.ok) {
    const error = (data as { error?: { message?: string; fields?: Record<string, string> } } | undefined)?.error
    throw new ApiError(response.status, error?.message ?? `${response.status} ${response.statusText}`.trim(), error?.fields, data)
  }
  return data as T
}

/** A message for a toast from anything a call threw. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
