// Names for the ids in log rows and statistics: a key's masked label, a client token's name. Made once per answer.
import type { GatewayControl } from './types.ts'

export interface Labels {
  /** The key's label, or its id when no pool holds it any more. */
  key(id: string): string
  /** The token's name, or its id when it is gone ('' for rows without a client). */
  token(id: string): string
}

export async function loadLabels(control: GatewayControl): Promise<Labels> {
  const keys = new Map(control.keys.list().map((key) => [key.id, key.label]))
  const tokens = new Map((await control.tokens.list()).map((token) => [token.id, token.name]))
  return {
    key: (id) => keys.get(id) ?? id,
    token: (id) => tokens.get(id) ?? id,
  }
}

/** A log row with the names of its key and client token. */
export function labelled<T extends { keyId: string; tokenId: string }>(labels: Labels, row: T): T & { keyLabel: string; tokenName: string } {
  return { ...row, keyLabel: labels.key(row.keyId), tokenName: labels.token(row.tokenId) }
}
