import type { Outcome, RequestContext } from './context.ts'

/**
 * The request pipeline: stages composed like middleware, outermost first. A stage sees the request on the way
 * in and the outcome on the way out; `key-select` may call `next()` more than once (one call per attempt).
 */
export type StageName = 'auth' | 'model-filter' | 'transform' | 'log' | 'stream-optimizer' | 'key-select' | 'upstream'

/** Runs the rest of the pipeline, in `ctx` when given (a hedged attempt's own context), else in the stage's. */
export type Next = (ctx?: RequestContext) => Promise<Outcome>

export interface Stage {
  /** A core stage's name, or `<plugin>` for a plugin's own. */
  name: StageName | (string & {})
  run(ctx: RequestContext, next: Next): Promise<Outcome>
}

export function defineStage(name: Stage['name'], run: Stage['run']): Stage {
  return { name, run }
}

/** A stage to place right before or after a core stage. */
export interface PlacedStage extends Stage {
  before?: StageName
  after?: StageName
}

/**
 * The pipeline with plugins' stages in place: each right before (or after) the core stage it names, in the order
 * the plugins are listed. A stage must name exactly one core stage, and one the pipeline has.
 */
export function placeStages(core: readonly Stage[], placed: readonly PlacedStage[]): Stage[] {
  const stages = [...core]
  for (const stage of placed) {
    const anchor = stage.before ?? stage.after
    if (!anchor || (stage.before && stage.after)) throw new Error(`pipeline: stage "${stage.name}" must name one core stage to go before or after`)
    const at = stages.findIndex((s) => s.name === anchor)
    if (at < 0) throw new Error(`pipeline: stage "${stage.name}" goes ${stage.before ? 'before' : 'after'} "${anchor}", which the pipeline does not have`)
    // After the anchor: after the anchor's other followers too, so list order is kept.
    let index = stage.before ? at : at + 1
    if (stage.after) while (index < stages.length && !STAGE_NAMES.has(stages[index]!.name)) index++
    stages.splice(index, 0, { name: stage.name, run: stage.run })
  }
  return stages
}

/**
 * Outermost first. auth refuses early; log sees every request that got past auth, failed or not; model-filter refuses
 * filtered models; transform edits the request and the answer; stream-optimizer paces the final answer; key-select
 * owns retries, so everything inside it runs per attempt.
 */
export const DEFAULT_PIPELINE: readonly StageName[] = ['auth', 'log', 'model-filter', 'transform', 'stream-optimizer', 'key-select', 'upstream']

const STAGE_NAMES: ReadonlySet<string> = new Set(DEFAULT_PIPELINE)

/** Throws a message naming the problem when `order` is not a pipeline the gateway can run safely. */
export function checkPipelineOrder(order: readonly string[]): asserts order is readonly StageName[] {
  const unknown = order.filter((name) => !STAGE_NAMES.has(name))
  if (unknown.length > 0)
    throw new Error(`pipeline: unknown stage ${unknown.map((n) => JSON.stringify(n)).join(', ')}; the stages are ${DEFAULT_PIPELINE.join(', ')}`)
  if (new Set(order).size !== order.length) throw new Error('pipeline: a stage is listed twice')
  if (order.at(-1) !== 'upstream') throw new Error('pipeline: "upstream" must be the last stage')
  if (!order.includes('key-select')) throw new Error('pipeline: "key-select" is required (it picks the key for each attempt)')
  // Nothing may read, rewrite or spend a key on a request before its client is known.
  if (!order.includes('auth')) throw new Error('pipeline: "auth" is required (the gateway never serves openly)')
  for (const later of ['transform', 'key-select'] as const) {
    if (order.includes(later) && order.indexOf('auth') > order.indexOf(later)) throw new Error(`pipeline: "auth" must come before "${later}"`)
  }
}

export type Pipeline = (ctx: RequestContext) => Promise<Outcome>

export function composePipeline(stages: readonly Stage[]): Pipeline {
  return (ctx) => dispatch(stages, 0, ctx)
}

function dispatch(stages: readonly Stage[], index: number, ctx: RequestContext): Promise<Outcome> {
  const stage = stages[index]
  if (!stage) return Promise.reject(new Error('pipeline ended without answering; is "upstream" the last stage?'))
  return stage.run(ctx, (inner = ctx) => dispatch(stages, index + 1, inner))
}
