/**
 * Type tests of the plugin API, checked by `tsc --noEmit` (part of `npm test`): each `@ts-expect-error` must be an
 * error, and everything else must compile. Imported as `gemgate`, as a plugin outside this repository would.
 */
import * as v from 'valibot'
import { definePlugin, type GatewayRequest, type Plugin } from 'gemgate'

const greeter = definePlugin({
  name: 'greeter',
  summary: 'says hello',
  options: v.strictObject({ greeting: v.optional(v.string(), 'hello'), times: v.optional(v.number(), 1) }),
  env: { greeting: { env: 'GREETING', kind: 'string' } },
  docs: { greeting: 'what to say', times: 'how often' },
  setup(options, ctx) {
    const greeting: string = options.greeting
    const times: number = options.times
    ctx.logger.info(greeting, times)
    return {
      transformRequest(request: GatewayRequest) {
        request.upstreamModel = request.model
      },
    }
  },
})

export const listed: Plugin[] = [greeter(), greeter({ greeting: 'hi' }), greeter({ times: 2 })]

// @ts-expect-error an option the schema does not have
greeter({ greting: 'typo' })
// @ts-expect-error an option of the wrong type
greeter({ times: 'two' })

definePlugin({
  name: 'bad-env',
  summary: 'binds a variable to an option it does not have',
  options: v.strictObject({ a: v.optional(v.string(), '') }),
  // @ts-expect-error env keys are option names
  env: { b: { env: 'B', kind: 'string' } },
  setup: () => ({}),
})

// @ts-expect-error a plugin says what it does (the README's plugin table)
definePlugin({ name: 'no-summary', setup: () => ({}) })

definePlugin({
  name: 'bad-hook',
  summary: 'a hook of the wrong shape',
  // @ts-expect-error transformChunk takes a chunk and a context, and returns chunks
  setup: () => ({ transformChunk: (chunk: string) => chunk.length }),
})
