// Schemas for what the console's routes take, shared so every route refuses the same input the same way.
import * as v from 'valibot'

/** A whole number in a query string, within bounds, or `fallback` when absent. */
export function queryInt(min: number, max: number, fallback: number) {
  return v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'must be a whole number'), v.transform(Number), v.minValue(min), v.maxValue(max)),
    String(fallback),
  )
}

/** The same, without a fallback. */
export function optionalQueryInt(min: number, max: number) {
  return v.optional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'must be a whole number'), v.transform(Number), v.minValue(min), v.maxValue(max)))
}

/** A time in a query string: epoch milliseconds or an ISO date. */
export const queryTime = v.optional(
  v.pipe(
    v.string(),
    v.transform((text) => (/^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text))),
    v.check((ms) => Number.isFinite(ms), 'must be epoch milliseconds or an ISO date'),
  ),
)

/** Free text in a query (a search), bounded. */
export const queryText = v.optional(v.pipe(v.string(), v.maxLength(200, 'is over 200 characters')))

/** An id as the API names keys, tokens and log rows. */
const Id = v.pipe(v.string('must be a string'), v.minLength(1, 'is empty'), v.maxLength(200, 'is over 200 characters'))

/** How many ids one call may name (the keys page selects up to every key of a large pool). */
export const MAX_IDS = 10_000

export const IdList = v.pipe(v.array(Id, 'must be a list of ids'), v.minLength(1, 'names no id'), v.maxLength(MAX_IDS, `names over ${MAX_IDS} ids`))

export const Ids = v.object({ ids: IdList })

/** `{ids}` or `{all: true}`. */
export const IdsOrAll = v.union([v.object({ ids: IdList }), v.object({ all: v.literal(true, 'must be true') })], 'give "ids" (a list) or "all": true')

/** Log row ids: numbers (or their digits). */
export const LogIds = v.union(
  [
    v.object({
      ids: v.pipe(
        v.array(v.pipe(v.union([v.number(), v.pipe(v.string(), v.regex(/^\d+$/))]), v.transform(Number), v.integer(), v.minValue(1))),
        v.minLength(1),
        v.maxLength(MAX_IDS),
      ),
    }),
    v.object({ all: v.literal(true) }),
  ],
  'give "ids" (a list of log row ids) or "all": true',
)
