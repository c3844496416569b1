/** Gemini's 30 prebuilt TTS voices, spelled as Google expects them. */
export const GEMINI_VOICES = [
  'Zephyr',
  'Puck',
  'Charon',
  'Kore',
  'Fenrir',
  'Leda',
  'Orus',
  'Aoede',
  'Callirrhoe',
  'Autonoe',
  'Enceladus',
  'Iapetus',
  'Umbriel',
  'Algieba',
  'Despina',
  'Erinome',
  'Algenib',
  'Rasalgethi',
  'Laomedeia',
  'Achernar',
  'Alnilam',
  'Schedar',
  'Gacrux',
  'Pulcherrima',
  'Achird',
  'Zubenelgenubi',
  'Vindemiatrix',
  'Sadachbia',
  'Sadaltager',
  'Sulafat',
] as const

/**
 * OpenAI's voices, each given the Gemini voice whose character (as Google describes it) and register come
 * closest to OpenAI's description, so a client configured for OpenAI gets a voice of the kind it chose.
 */
export const OPENAI_VOICES: Readonly<Record<string, (typeof GEMINI_VOICES)[number]>> = {
  alloy: 'Schedar', // neutral, balanced → "even"
  ash: 'Iapetus', // clear, confident male → "clear"
  ballad: 'Algieba', // soft, expressive male → "smooth"
  coral: 'Sulafat', // warm, friendly female → "warm"
  echo: 'Charon', // calm, resonant male → "informative"
  fable: 'Sadachbia', // lively storyteller → "lively"
  nova: 'Zephyr', // bright, energetic female → "bright"
  onyx: 'Alnilam', // deep, authoritative male → "firm"
  sage: 'Kore', // calm, measured female → "firm"
  shimmer: 'Achernar', // soft, gentle female → "soft"
  verse: 'Puck', // expressive, versatile male → "upbeat"
  marin: 'Aoede', // natural, relaxed female → "breezy"
  cedar: 'Umbriel', // natural, relaxed male → "easy-going"
}

const BY_LOWER_NAME = new Map<string, string>([...GEMINI_VOICES.map((name) => [name.toLowerCase(), name] as const), ...Object.entries(OPENAI_VOICES)])

/** The Gemini voice a name stands for (a Gemini voice in any case, or an OpenAI voice), or undefined. */
export function geminiVoice(name: string): string | undefined {
  return BY_LOWER_NAME.get(name.trim().toLowerCase())
}

export const ACCEPTED_VOICES = `${Object.keys(OPENAI_VOICES).join(', ')}, or a Gemini voice: ${GEMINI_VOICES.join(', ')}`
