/**
 * Models that take no built-in tools: Google's image models, which end in `-image` (`gemini-2.5-flash-image`, or a
 * gateway `-image` variant) or carry it before a further word (`-image-preview`, `-preview-image-generation`), and its
 * speech models (`-tts`), which answer with audio only (gemini-balance sent them no tools either).
 */
export const takesNoTools = (model: string): boolean => /-image(?:-|$)/.test(model) || model.includes('tts')
