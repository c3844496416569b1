import type { Outcome, RequestContext } from './context.ts'

/**
 * The request pipeline: stages composed like middleware, outermost first. A stage sees the request on the way
 * in and the outcome on the way out; `key-select` may call `next()` more than once (one call per attempt).
 */
export type StageName = 'auth' | 'model-filter' | 'transform' | 'log' | 'stream-optimizer' | 'key-select' | 'upstream'

export type Next = () => Promise<Outcome>

export interface Stage {
  name: StageName
  run(ctx: RequestContext, next: Next): Promise<Outcome>
}

export function defineStage(name: StageName, run: Stage['run']): Stage {
  return { name, run }
}

/**
 * Outermost first. auth and model-filter refuse early; transform edits the request and the answer; log and
 * stream-optimizer wrap the final answer; key-select owns retries, so everything inside it runs per attempt.
 */
export const DEFAULT_PIPELINE: readonly StageName[] = ['auth', 'model-filter', 'transform', 'log', 'stream-optimizer', 'key-select', 'upstream']

export function checkPipelineOrder(order: readonly StageName[]): void {
  if (order.at(-1) !== 'upstream') throw new Error('pipeline: "upstream" must be the last stage')
  if (!order.includes('key-select')) throw new Error('pipeline: "key-select" is required (it picks the key for each attempt)')
  if (new Set(order).size !== order.length) throw new Error('pipeline: a stage is listed twice')
}

export type Pipeline = (ctx: RequestContext) => Promise<Outcome>

export function composePipeline(stages: readonly Stage[]): Pipeline {
  return (ctx) => dispatch(stages, 0, ctx)
}

function dispatch(stages: readonly Stage[], index: number, ctx: RequestContext): Promise<Outcome> {
  const stage = stages[index]
  if (!stage) return Promise.reject(new Error('pipeline ended without answering; is "upstream" the last stage?'))
  return stage.run(ctx, () => dispatch(stages, index + 1, ctx))
}
