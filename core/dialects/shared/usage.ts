import type { UsageMetadata } from '../../gemini/types.ts'
import { isObject } from '../../internal/json.ts'

/** A Gemini `usageMetadata` block as the counts every codec maps its own usage shape from (absent counts are 0). */
export interface TokenCounts {
  prompt: number
  completion: number
  thoughts: number
  cached: number
  total: number
}

export function tokenCounts(usage: unknown): TokenCounts | undefined {
  if (!isObject(usage)) return undefined
  const usageMetadata = usage as UsageMetadata & { cachedContentTokenCount?: number }
  const prompt = usageMetadata.promptTokenCount ?? 0
  const completion = usageMetadata.candidatesTokenCount ?? 0
  const thoughts = usageMetadata.thoughtsTokenCount ?? 0
  return {
    prompt,
    completion,
    thoughts,
    cached: usageMetadata.cachedContentTokenCount ?? 0,
    total: usageMetadata.totalTokenCount ?? prompt + completion + thoughts,
  }
}
