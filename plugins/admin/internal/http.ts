// Answers of the admin API: JSON in the console's error shape `{"error":{"message","fields"?}}`, never cached, and
// input checked with valibot where a refusal names the field but never repeats what was sent (it may be a key).
import type { H3Event } from 'h3'
import * as v from 'valibot'

/** A refusal the console shows as it is: status, message, and the fields at fault. */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields?: Record<string, string>,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

/** Every admin answer: no cache keeps it, no browser sniffs it into something else, no frame shows it. */
export const PRIVATE_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
}

export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(data), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...PRIVATE_HEADERS, ...headers } })
}

export function errorResponse(error: AdminError): Response {
  return json({ error: { message: error.message, ...(error.fields ? { fields: error.fields } : {}) } }, error.status, error.headers)
}

/** A 303 to `location`, with the cookies given. */
export function redirect(location: string, cookies: readonly string[] = []): Response {
  const headers = new Headers({ location, ...PRIVATE_HEADERS })
  for (const cookie of cookies) headers.append('set-cookie', cookie)
  return new Response(null, { status: 303, headers })
}

export const badRequest = (message: string, fields?: Record<string, string>) => new AdminError(400, message, fields)
export const notFound = (message: string) => new AdminError(404, message)

/**
 * Path → why, for every issue. Valibot's messages end in "but received <the input>": that part is cut, since the
 * input may be a key or a token pasted into the wrong field.
 */
export function fieldErrors(issues: readonly v.BaseIssue<unknown>[]): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const issue of issues) {
    const path = v.getDotPath(issue) ?? '(body)'
    fields[path] ??= issue.message.replace(/ but received [\s\S]*$/, '')
  }
  return fields
}

export function validate<S extends v.GenericSchema>(schema: S, input: unknown, what: string): v.InferOutput<S> {
  const result = v.safeParse(schema, input)
  if (result.success) return result.output
  const fields = fieldErrors(result.issues)
  throw badRequest(
    `Invalid ${what}: ${Object.entries(fields)
      .map(([path, message]) => `${path}: ${message}`)
      .join('; ')}`,
    fields,
  )
}

/** The admin API's bodies are small (a pasted key list is the largest); a bigger one is refused unread. */
const MAX_BODY_BYTES = 8 * 1024 * 1024
/** A login or logout form holds a token or two. */
export const MAX_FORM_BYTES = 64 * 1024

/**
 * The raw body text, once (h3 reads a body only once), read as it arrives and refused as soon as it is over
 * `maxBytes`: a body sent without a length (chunked) cannot make the gateway hold more than that.
 */
export async function readText(event: H3Event, maxBytes = MAX_BODY_BYTES): Promise<string> {
  // The rest of the body is never read: the connection closes after the answer, so no client reuses it mid-body.
  const tooLarge = () =>
    new AdminError(413, `The body is over ${maxBytes >= 1024 * 1024 ? `${maxBytes / 1024 / 1024} MB` : `${maxBytes / 1024} KB`}.`, undefined, {
      connection: 'close',
    })
  if (Number(event.req.headers.get('content-length') ?? 0) > maxBytes) throw tooLarge()
  const body = event.req.body
  if (!body) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    if (size > maxBytes) throw tooLarge()
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** A JSON body checked against `schema`; an empty body is `{}`. */
export async function readJson<S extends v.GenericSchema>(event: H3Event, schema: S, maxBytes = MAX_BODY_BYTES): Promise<v.InferOutput<S>> {
  const text = await readText(event, maxBytes)
  let data: unknown = {}
  if (text.trim() !== '') {
    try {
      data = JSON.parse(text)
    } catch {
      throw badRequest('The body is not valid JSON.')
    }
  }
  return validate(schema, data, 'body')
}

/** A urlencoded form's fields (the login and logout forms). */
export async function readForm(event: H3Event): Promise<Record<string, string>> {
  return Object.fromEntries(new URLSearchParams(await readText(event, MAX_FORM_BYTES)))
}

/** The query string as an object of its first values, checked against `schema`. */
export function readQuery<S extends v.GenericSchema>(event: H3Event, schema: S): v.InferOutput<S> {
  const query: Record<string, string> = {}
  for (const [name, value] of event.url.searchParams) query[name] ??= value
  return validate(schema, query, 'query')
}

export function isJsonRequest(event: H3Event): boolean {
  return (event.req.headers.get('content-type') ?? '').toLowerCase().includes('application/json')
}
