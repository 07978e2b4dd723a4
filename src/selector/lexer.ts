import { isIdentifierChar } from './labelSyntax.js';

/**
 * The tokens of a selector expression, read on demand in one pass (contract §3:
 * parsing is linear in the input's length, so no regular expressions here).
 * `in` and `notin` are plain identifiers: the parser gives them meaning only
 * where an operator is expected, so a key may be called `in`.
 */
export type TokenKind =
  | 'identifier'
  | 'not' // !
  | 'equals' // =
  | 'doubleEquals' // ==
  | 'notEquals' // !=
  | 'greaterThan' // >
  | 'lessThan' // <
  | 'open' // (
  | 'close' // )
  | 'comma'
  | 'end'
  | 'unexpected'; // a character no token starts with

export interface Token {
  kind: TokenKind;
  text: string;
  /** 1-based. Every character before a valid token is ASCII, so this counts characters. */
  column: number;
}

export class Lexer {
  private position = 0;

  constructor(private readonly input: string) {}

  next(): Token {
    const input = this.input;
    while (this.position < input.length && isWhitespace(input.charCodeAt(this.position))) this.position++;
    const start = this.position;
    if (start >= input.length) return { kind: 'end', text: '', column: start + 1 };
    const code = input.charCodeAt(start);
    const following = input.charCodeAt(start + 1);
    if (isIdentifierChar(code)) {
      let end = start + 1;
      while (end < input.length && isIdentifierChar(input.charCodeAt(end))) end++;
      return this.take('identifier', end);
    }
    switch (code) {
      case 0x21: // !
        return following === 0x3d ? this.take('notEquals', start + 2) : this.take('not', start + 1);
      case 0x3d: // =
        return following === 0x3d ? this.take('doubleEquals', start + 2) : this.take('equals', start + 1);
      case 0x3e: // >
        return this.take('greaterThan', start + 1);
      case 0x3c: // <
        return this.take('lessThan', start + 1);
      case 0x28:
        return this.take('open', start + 1);
      case 0x29:
        return this.take('close', start + 1);
      case 0x2c:
        return this.take('comma', start + 1);
      default: {
        // Report the whole character, not half of a surrogate pair.
        const char = String.fromCodePoint(input.codePointAt(start) ?? code);
        return this.take('unexpected', start + char.length);
      }
    }
  }

  private take(kind: TokenKind, end: number): Token {
    const token = { kind, text: this.input.slice(this.position, end), column: this.position + 1 };
    this.position = end;
    return token;
  }
}

/** Describes a token for "found ..." in messages, bounded so a 1 MB identifier stays a short message. */
export function describeToken(token: Token): string {
  if (token.kind === 'end') return 'end of input';
  const shown = token.text.length > 40 ? `${token.text.slice(0, 40)}...` : token.text;
  return JSON.stringify(shown);
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}
