/**
 * User text made safe to print: a fleet file must not be able to rewrite the
 * operator's screen. Ids, labels, names and file names are printed with every
 * character that a terminal acts on or that reorders or hides text escaped:
 * - control characters (C0, DEL, C1: ESC starts colour and cursor sequences,
 *   U+009B is a one-byte CSI for some terminals),
 * - format characters (Unicode Cf: the bidirectional overrides and isolates
 *   U+202A-202E and U+2066-2069, the marks U+200E/F and U+061C, zero-width
 *   characters, the byte order mark, tag characters),
 * - the line and paragraph separators U+2028/2029, and lone surrogates.
 * An escaped character reads `\u001b` (`\u{e0001}` beyond the BMP), as in
 * JSON. Printable text, accents and emoji included, is unchanged.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
/** What JSON.stringify leaves raw of that set (it escapes C0 controls and lone surrogates itself; its own layout uses line feeds). */
const UNSAFE_IN_JSON = /[\x7f-\x9f\p{Cf}\p{Zl}\p{Zp}]/gu;
/** The same set without the line feed, for text that is several lines on purpose. */
const UNSAFE_BUT_NEWLINE = /[\0-\x09\x0b-\x1f\x7f-\x9f\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/** One line of user text, with every unsafe character escaped (a line feed too). */
export function safeText(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** Several lines: each line made safe, the line feeds between them kept. */
export function safeLines(text: string): string {
  return text.replace(UNSAFE_BUT_NEWLINE, escapeChar);
}

/**
 * The same characters as JSON escapes, for JSON output: JSON.stringify already
 * escapes C0 controls and lone surrogates but leaves the rest raw. Outside
 * strings JSON text is ASCII, so this changes no value a reader parses back.
 */
export function safeJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, jsonEscape);
}

function escapeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : jsonEscape(char);
}

/** `\uXXXX` for each UTF-16 unit (a character beyond the BMP becomes its surrogate pair, as JSON writes it). */
function jsonEscape(char: string): string {
  let escaped = '';
  for (let i = 0; i < char.length; i++) escaped += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return escaped;
}
