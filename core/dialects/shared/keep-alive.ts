/**
 * The keep-alive of the SSE streams made only of `data:` events (OpenAI chat, OpenAI Responses, the OpenAI
 * pass-through): a comment line, which the SSE standard has every parser skip (the official openai SDK's decoder
 * drops lines that start with ':' before it looks at fields), so it never reaches the client's code.
 *
 * For chat streams gemini-balance sent a chunk with empty `choices` instead. That chunk does reach the application:
 * the openai SDK yields it like any other, chat apps that read `chunk.choices[0].delta` throw on it, and OpenAI
 * documents an empty-choices chunk as the stream's last one (the usage chunk), so a client may take it for the end.
 */
export const SSE_KEEP_ALIVE = ': keep-alive\n\n'
