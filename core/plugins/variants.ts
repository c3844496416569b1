import { badRequest } from '../errors.ts'
import type { GeminiModel, ModelVariant } from '../plugin.ts'
import { shortModelName } from '../dialects/shared/models.ts'

export interface ResolvedModel {
  /** The model Google gets. */
  base: string
  /** The suffixes the client's name carried, each served by one plugin. */
  variants: ReadonlySet<string>
}

const NONE: ReadonlySet<string> = new Set()

/**
 * Splits a client's model name into its base and the variant suffixes it carries, in any order
 * (`x-search-non-thinking` and `x-non-thinking-search` alike), each at most once.
 *
 * A name whose suffixes all apply to the base is a variant; a name none of whose suffixes apply is taken as it is
 * (Google has real models ending in `-image`); a name that mixes the two is refused, so a name the gateway would
 * have to invent is never sent to Google.
 */
export function resolveModelVariants(model: string, variants: readonly ModelVariant[]): ResolvedModel {
  if (variants.length === 0) return { base: model, variants: NONE }
  const found: ModelVariant[] = []
  let base = model
  for (;;) {
    let match: ModelVariant | undefined
    for (const variant of variants) {
      if (found.includes(variant) || base.length <= variant.suffix.length || !base.endsWith(variant.suffix)) continue
      if (!match || variant.suffix.length > match.suffix.length) match = variant
    }
    if (!match) break
    found.push(match)
    base = base.slice(0, -match.suffix.length)
  }
  if (found.length === 0) return { base: model, variants: NONE }
  const missing = found.filter((variant) => !variant.appliesTo(base))
  if (missing.length === found.length) return { base: model, variants: NONE }
  if (missing.length > 0) {
    throw badRequest(
      `Model "${model}" is not available: ${missing.map((v) => `"${v.suffix}"`).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not offered for ${base}.`,
      'model',
    )
  }
  return { base, variants: new Set(found.map((variant) => variant.suffix)) }
}

/** The variant entries of one page of the upstream model list, each right after its base, as gemini-balance listed them. */
export function variantModels(upstream: readonly GeminiModel[], variants: readonly ModelVariant[]): GeminiModel[] {
  const listed: GeminiModel[] = []
  for (const model of upstream) {
    const base = shortModelName(model.name)
    for (const variant of variants) {
      if (!variant.appliesTo(base)) continue
      listed.push({
        ...model,
        displayName: `${model.displayName ?? base} (${variant.suffix.slice(1)})`,
        ...variant.describe?.(model),
        name: `models/${base}${variant.suffix}`,
      })
    }
  }
  return listed
}
