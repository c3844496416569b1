/**
 * A JSON value that is carried as text and parsed only if someone looks inside. The gateway forwards most bodies
 * and stream chunks untouched, so the common path costs no parse and no re-serialisation; a stage or plugin that
 * reads `data` pays for one parse, and one that replaces the value makes a new Payload.
 */
export class Payload<T = any> {
  #text: string | undefined
  #data: T | undefined
  #parsed: boolean

  private constructor(text: string | undefined, data: T | undefined, parsed: boolean) {
    this.#text = text
    this.#data = data
    this.#parsed = parsed
  }

  static fromText<T = any>(text: string): Payload<T> {
    return new Payload<T>(text, undefined, false)
  }

  static fromData<T>(data: T): Payload<T> {
    return new Payload<T>(undefined, data, true)
  }

  /**
   * A stream's keep-alive: no content, only a sign of life while an answer is being made (fake streaming). Every
   * dialect sends it as its wire's heartbeat; key-select never takes it for the answer, and chunk hooks never see it.
   */
  static readonly keepAlive: Payload<never> = new Payload<never>('', undefined, true)

  get keepAlive(): boolean {
    return (this as Payload<unknown>) === Payload.keepAlive
  }

  get text(): string {
    return (this.#text ??= JSON.stringify(this.#data))
  }

  /** Throws SyntaxError when the text is not JSON. */
  get data(): T {
    if (!this.#parsed) {
      this.#data = JSON.parse(this.#text!) as T
      this.#parsed = true
    }
    return this.#data as T
  }

  /** Parses if needed; undefined instead of throwing for text that is not JSON. */
  tryData(): T | undefined {
    try {
      return this.data
    } catch {
      return undefined
    }
  }
}
