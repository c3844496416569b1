import { addBuiltinTool, refusesBuiltinTools, type Json } from 'gemgate'

/**
 * Adds the `googleSearch` tool beside the client's own tools, unless Google would refuse it there (functions declared
 * or called, JSON mode: `refusesBuiltinTools`) or the request searches already (also through the Gemini 1.5 retrieval
 * tool, which Google refuses beside it). The client's functions are what it asked for, so they stay and the search is
 * left out.
 */
export function addGoogleSearch(body: Json): void {
  if (refusesBuiltinTools(body)) return
  addBuiltinTool(body, 'googleSearch', ['googleSearchRetrieval'])
}
