// Generated request rows for the rollup and statistics tests, and what the rollups must hold for them, computed
// here from the rows themselves (not by the code under test).
import type { RequestLogRow } from '../../storage/index.ts'

export const HOUR = 3_600_000
export const DAY = 86_400_000
/** 2025-11-24T16:00:00Z: on an hour, not on a day. */
export const T0 = 1_764_000_000_000
/** The latency buckets' upper bounds as documented (the last bucket is everything above 60 s). */
export const BOUNDS = [100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000]

const LATENCIES = [0, 1, 99, 100, 101, 250, 251, 499, 500, 999, 1000, 1001, 2500, 4999, 5000, 9999, 10_000, 29_999, 30_000, 60_000, 60_001, 120_000]
const CLASSES = ['ok', 'ok', 'ok', 'ok', 'ok', 'rate-limited', 'upstream-error', 'client-error']

/** A small deterministic PRNG, so a failure is reproducible. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `count` rows spread over `spanMs` from `start`, over 6 keys (and '' for refused requests), 3 models, 3 tokens. */
export function generateRows(count: number, start: number, spanMs: number, seed = 1): RequestLogRow[] {
  const next = random(seed)
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!
  return Array.from({ length: count }, (_, i) => {
    const keyId = next() < 0.05 ? '' : `k${Math.floor(next() * 6)}`
    const tokens = next() < 0.2 ? undefined : Math.floor(next() * 1000)
    return {
      time: start + Math.floor(next() * spanMs),
      requestId: `r${i}`,
      tokenId: pick(['t0', 't1', 't2']),
      dialect: 'gemini',
      operation: 'generateContent',
      model: pick(['gemini-2.5-flash', 'gemini-2.5-pro', 'gemma-3']),
      keyId,
      attempt: 1,
      status: 200,
      failureClass: keyId === '' ? 'client-error' : pick(CLASSES),
      latencyMs: pick(LATENCIES),
      promptTokens: tokens,
      completionTokens: tokens === undefined ? undefined : tokens * 2,
      totalTokens: tokens === undefined ? undefined : tokens * 3 + 7,
    }
  })
}

export interface Expected {
  requests: number
  promptTokens: number
  completionTokens: number
  totalTokens: number
  latencyMsSum: number
  latencyMsMax: number
  buckets: number[]
}

export function bucketOf(latencyMs: number): number {
  const i = BOUNDS.findIndex((bound) => latencyMs <= bound)
  return i === -1 ? BOUNDS.length : i
}

/** Sums rows into groups named by `key(row)`. */
export function expectedGroups(rows: readonly RequestLogRow[], key: (row: RequestLogRow) => string): Map<string, Expected> {
  const groups = new Map<string, Expected>()
  for (const row of rows) {
    const id = key(row)
    let group = groups.get(id)
    if (!group) {
      group = {
        requests: 0,
        promptTokens: 0,
        completionTokens: 0,
        totalTokens: 0,
        latencyMsSum: 0,
        latencyMsMax: 0,
        buckets: Array.from({ length: BOUNDS.length + 1 }, () => 0),
      }
      groups.set(id, group)
    }
    group.requests += 1
    group.promptTokens += row.promptTokens ?? 0
    group.completionTokens += row.completionTokens ?? 0
    group.totalTokens += row.totalTokens ?? 0
    group.latencyMsSum += row.latencyMs
    if (row.keyId !== '') {
      group.buckets[bucketOf(row.latencyMs)] += 1
      group.latencyMsMax = Math.max(group.latencyMsMax, row.latencyMs)
    }
  }
  return groups
}

export const hourOf = (time: number) => time - (time % HOUR)
export const dayOf = (time: number) => time - (time % DAY)
