/**
 * Services plugins provide to each other by name (an image uploader, a file store, ...). A plugin never imports
 * another plugin; it asks the registry, so either side can be swapped in gateway.config.ts.
 */
export class ServiceRegistry {
  readonly #services = new Map<string, { provider: string; impl: unknown }>()

  provide<T>(name: string, impl: T, provider = 'gateway'): void {
    const existing = this.#services.get(name)
    if (existing) throw new Error(`Service "${name}" is provided twice (by ${existing.provider} and ${provider})`)
    this.#services.set(name, { provider, impl })
  }

  get<T>(name: string): T | undefined {
    return this.#services.get(name)?.impl as T | undefined
  }

  require<T>(name: string): T {
    const entry = this.#services.get(name)
    if (!entry) throw new Error(`Service "${name}" is not provided; add a plugin that provides it to gateway.config.ts`)
    return entry.impl as T
  }

  names(): string[] {
    return [...this.#services.keys()]
  }
}
