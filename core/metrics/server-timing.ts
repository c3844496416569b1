// The Server-Timing header every answer carries: how long the gateway itself took and how long Google did, so a
// client (or a browser's devtools) can tell which side was slow without asking the operator.
import type { AttemptRecord } from '../context.ts'

/**
 * Milliseconds spent waiting on Google for the answer being sent: every attempt's time up to its answer (for a stream,
 * up to its first event, which is when the gateway commits to it and the header leaves). Attempts still running
 * (a hedged request's other half) count 0 until they end.
 */
export function upstreamMs(attempts: readonly AttemptRecord[]): number {
  let total = 0
  for (let i = 0; i < attempts.length; i++) total += attempts[i]!.latencyMs
  return total
}

/** `gateway;dur=0.4, upstream;dur=21.3` (milliseconds, one decimal); without upstream when nothing went to Google. */
export function serverTiming(gatewayMs: number, upstream?: number): string {
  const gateway = `gateway;dur=${tenths(gatewayMs)}`
  return upstream === undefined ? gateway : `${gateway}, upstream;dur=${tenths(upstream)}`
}

const tenths = (ms: number) => Math.round(ms * 10) / 10
