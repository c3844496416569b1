// The fake Gemini upstream (generativelanguage.googleapis.com/v1beta) used by the tests and the benchmark.
export { startFakeUpstream } from './server.ts'
export type { Behaviour, BehaviourOptions, FakeUpstream, FakeUpstreamOptions, RecordedRequest, ScriptedAnswer } from './types.ts'
export type { FakeLive, FakeLiveSession, LiveFrame } from './live.ts'
// Building blocks, for tests that want to assert exact wire bytes.
export { compactJson, prettyJson, sseEvent, unaryBody } from './json.ts'
export * as googleErrors from './errors.ts'
export { MODELS, RETIRED_MODELS } from './models.ts'
export { countWords, embedValues } from './responses.ts'
