// Two small bounded memories of the pool that help the judge and the confirmer: which models some key served lately,
// and which keys passed the fixed request on a model lately.

const SERVED_MEMORY_MS = 86_400_000
const SERVED_REFRESH_MS = 60_000
const SERVED_MAX_MODELS = 1024
const PASSED_MAX_ENTRIES = 4096

/** Model → when a key last served it: a 404 on a model nobody served is a typo, not a key's lack of access. */
export class ServedModels {
  readonly #at = new Map<string, number>()

  note(model: string, now: number): void {
    const at = this.#at.get(model)
    if (at !== undefined && now - at < SERVED_REFRESH_MS) return
    // Re-inserting keeps the map in last-served order, so the oldest entry is the first to go past the cap.
    this.#at.delete(model)
    this.#at.set(model, now)
    if (this.#at.size > SERVED_MAX_MODELS) this.#at.delete(this.#at.keys().next().value!)
  }

  /** Some key served `model` within the last day. */
  has(model: string, now: number): boolean {
    const at = this.#at.get(model)
    return at !== undefined && now - at < SERVED_MEMORY_MS
  }

  forgetOld(now: number): void {
    for (const [model, at] of this.#at) if (now - at >= SERVED_MEMORY_MS) this.#at.delete(model)
  }
}

/** `${keyId}\n${model}` → until when a passed probe stands (see confirm.ts). */
export class PassedProbes {
  readonly #until = new Map<string, number>()

  note(keyId: string, model: string, until: number, now: number): void {
    if (this.#until.size >= PASSED_MAX_ENTRIES) this.forgetExpired(now)
    if (this.#until.size < PASSED_MAX_ENTRIES) this.#until.set(`${keyId}\n${model}`, until)
  }

  stands(keyId: string, model: string, now: number): boolean {
    return (this.#until.get(`${keyId}\n${model}`) ?? 0) > now
  }

  forgetExpired(now: number): void {
    for (const [id, until] of this.#until) if (until <= now) this.#until.delete(id)
  }

  forgetKey(keyId: string): void {
    for (const id of this.#until.keys()) if (id.startsWith(`${keyId}\n`)) this.#until.delete(id)
  }
}
