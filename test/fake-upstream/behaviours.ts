// Per-key plans: what the next request of a key gets (a behaviour or a scripted answer).

import type { Behaviour, BehaviourOptions, ScriptedAnswer } from './types.ts'

export type PlanEntry = { kind: 'behaviour'; behaviour: Behaviour; retryDelaySeconds?: number; slowMs?: number } | { kind: 'script'; answer: ScriptedAnswer }

interface Timed {
  entry: PlanEntry
  remaining: number
}

const OK: PlanEntry = { kind: 'behaviour', behaviour: 'ok' }

export function behaviourEntry(behaviour: Behaviour, options: BehaviourOptions = {}): PlanEntry {
  const entry: PlanEntry = { kind: 'behaviour', behaviour }
  if (options.retryDelaySeconds !== undefined) entry.retryDelaySeconds = options.retryDelaySeconds
  if (options.slowMs !== undefined) entry.slowMs = options.slowMs
  return entry
}

export class Plans {
  private readonly permanent = new Map<string, PlanEntry>()
  private readonly timed = new Map<string, Timed[]>()
  private fallback: PlanEntry = OK

  /** `times` undefined: permanent. `times` <= 0: nothing to do. */
  set(key: string, entry: PlanEntry, times?: number): void {
    if (times === undefined) {
      this.permanent.set(key, entry)
      return
    }
    if (!(times > 0)) return
    const queue = this.timed.get(key)
    const item = { entry, remaining: Math.floor(times) || 1 }
    if (queue) queue.push(item)
    else this.timed.set(key, [item])
  }

  setDefault(behaviour: Behaviour): void {
    this.fallback = behaviour === 'ok' ? OK : behaviourEntry(behaviour)
  }

  /** The plan for the next request of `key`; consumes one use of a timed entry. */
  next(key: string): PlanEntry {
    const queue = this.timed.get(key)
    if (queue !== undefined) {
      const head = queue[0]!
      head.remaining -= 1
      if (head.remaining <= 0) {
        queue.shift()
        if (queue.length === 0) this.timed.delete(key)
      }
      return head.entry
    }
    return this.permanent.get(key) ?? this.fallback
  }

  reset(): void {
    this.permanent.clear()
    this.timed.clear()
    this.fallback = OK
  }
}
