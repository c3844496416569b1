import type { Usage } from 'gemgate'

/** The Live API's `usageMetadata` fields the log keeps (the answer side is `responseTokenCount` here, not candidates). */
interface LiveUsageMetadata {
  promptTokenCount?: unknown
  responseTokenCount?: unknown
  thoughtsTokenCount?: unknown
  totalTokenCount?: unknown
}

/**
 * The session's token usage. Google reports `usageMetadata` per turn (each prompt count includes the history the turn
 * re-read), so the session's usage is the sum of them: what the session was billed.
 */
export class SessionUsage {
  #usage: Required<Usage> | undefined

  add(metadata: unknown): void {
    if (metadata === null || typeof metadata !== 'object') return
    const turn = metadata as LiveUsageMetadata
    const usage = (this.#usage ??= { promptTokens: 0, completionTokens: 0, thinkingTokens: 0, totalTokens: 0 })
    usage.promptTokens += count(turn.promptTokenCount)
    usage.completionTokens += count(turn.responseTokenCount)
    usage.thinkingTokens += count(turn.thoughtsTokenCount)
    usage.totalTokens += count(turn.totalTokenCount)
  }

  /** Undefined when Google reported none (a session that never finished a turn). */
  total(): Usage | undefined {
    return this.#usage && { ...this.#usage }
  }
}

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0)
