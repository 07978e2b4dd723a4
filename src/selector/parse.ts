import { keyProblem, valueProblem } from './labelSyntax.js';
import { Lexer, describeToken, type Token } from './lexer.js';
import { INT64_MAX, parseInt64, type Requirement } from './requirement.js';

export type SelectorParseResult =
  | { ok: true; requirements: Requirement[] }
  | { ok: false; column: number; message: string };

/**
 * Parses one `match_expressions` entry (contract §3): the Kubernetes label-selector
 * syntax, several requirements separated by commas outside parentheses, all of
 * which must hold. Grammar (whitespace between tokens ignored):
 *
 *     expression  := requirement ("," requirement)*
 *     requirement := "!" key | key | key ("=" | "==" | "!=") [value]
 *                  | key (">" | "<") integer
 *                  | key ("in" | "notin") "(" [item ("," item)*] ")"
 *     item        := [value]
 *
 * Keys and values follow `labelSyntax.ts`. v1.1, as in Kubernetes: a value may be
 * empty (`x=`), and so may a set item (`x in (a,,b)` holds the empty value);
 * but `()` is the empty set and one comma before `)` only ends the list
 * (`x in (a,)` is `x in (a)`), where Kubernetes reads both as the empty value.
 * The empty expression is an error. One pass over the input, one token of
 * lookahead: linear time on any input. A failure gives the 1-based column of the
 * offending token and a message saying what was expected and what was found.
 */
export function parseSelectorExpression(text: string): SelectorParseResult {
  try {
    return { ok: true, requirements: new Parser(text).expression() };
  } catch (error) {
    if (error instanceof SyntaxFailure) return { ok: false, column: error.column, message: error.message };
    throw error;
  }
}

/** Internal: unwinds the parser to `parseSelectorExpression`, which returns it as data. */
class SyntaxFailure extends Error {
  constructor(
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

class Parser {
  private readonly lexer: Lexer;
  private lookahead: Token;

  constructor(text: string) {
    this.lexer = new Lexer(text);
    this.lookahead = this.lexer.next();
  }

  expression(): Requirement[] {
    if (this.lookahead.kind === 'end') {
      throw new SyntaxFailure(1, 'empty expression: expected at least one requirement, such as "region=us-east"');
    }
    const requirements = [this.requirement('a key or "!"')];
    for (;;) {
      const token = this.advance();
      if (token.kind === 'end') return requirements;
      if (token.kind !== 'comma') this.fail(token, '"," or end of input after a requirement');
      requirements.push(this.requirement('a key or "!" after ","'));
    }
  }

  private requirement(expected: string): Requirement {
    const first = this.advance();
    if (first.kind === 'not') {
      return { key: this.key(this.advance(), 'a key after "!"'), operator: 'absent', values: [] };
    }
    const key = this.key(first, expected);
    const next = this.lookahead;
    switch (next.kind) {
      case 'end':
      case 'comma':
        return { key, operator: 'exists', values: [] };
      case 'equals':
      case 'doubleEquals':
      case 'notEquals':
        this.advance();
        return { key, operator: next.kind === 'notEquals' ? 'notin' : 'in', values: [this.optionalValue(`a value after "${next.text}"`)] };
      case 'greaterThan':
      case 'lessThan':
        this.advance();
        return { key, operator: next.kind === 'greaterThan' ? 'gt' : 'lt', values: [this.integer(this.advance(), next.text)] };
      case 'identifier':
        if (next.text === 'in' || next.text === 'notin') {
          this.advance();
          return { key, operator: next.text, values: this.valueList(next.text) };
        }
        break;
      default:
        break;
    }
    return this.fail(next, `"=", "==", "!=", ">", "<", "in", "notin", "," or end of input after the key ${describeToken(first)}`);
  }

  /** A value, or the empty value when a separator (",", ")") or the end comes first. */
  private optionalValue(expected: string): string {
    const kind = this.lookahead.kind;
    if (kind === 'end' || kind === 'comma' || kind === 'close') return '';
    return this.value(this.advance(), expected);
  }

  private valueList(operator: string): string[] {
    const open = this.advance();
    if (open.kind !== 'open') this.fail(open, `"(" after "${operator}"`);
    if (this.lookahead.kind === 'close') {
      this.advance();
      return []; // `()`: the empty set
    }
    // A Set drops duplicates in linear time and keeps the order written.
    const values = new Set([this.optionalValue('a value, "," or ")" after "("')]);
    for (;;) {
      const token = this.advance();
      if (token.kind === 'close') return [...values];
      if (token.kind !== 'comma') this.fail(token, '"," or ")" in the list of values');
      if (this.peek() === 'close') {
        this.advance();
        return [...values]; // one comma before ")" only ends the list
      }
      values.add(this.optionalValue('a value, "," or ")" after ","'));
    }
  }

  /** The operand of `>` and `<`: a decimal integer that fits in 64 bits, as in Kubernetes. */
  private integer(token: Token, operator: string): string {
    const expected = `an integer after "${operator}"`;
    if (token.kind !== 'identifier') this.fail(token, expected);
    if (parseInt64(token.text) === undefined || !/^[0-9]+$/.test(token.text)) {
      this.invalid(token, 'value', `"${operator}" compares whole numbers: expected an integer from 0 to ${INT64_MAX}`);
    }
    return token.text;
  }

  private key(token: Token, expected: string): string {
    if (token.kind !== 'identifier') this.fail(token, expected);
    const problem = keyProblem(token.text);
    if (problem !== undefined) this.invalid(token, 'key', problem);
    return token.text;
  }

  private value(token: Token, expected: string): string {
    if (token.kind !== 'identifier') this.fail(token, expected);
    const problem = valueProblem(token.text);
    if (problem !== undefined) this.invalid(token, 'value', problem);
    return token.text;
  }

  /** The next token's kind (a method, so TypeScript does not keep an earlier narrowing of `lookahead`). */
  private peek(): Token['kind'] {
    return this.lookahead.kind;
  }

  private advance(): Token {
    const token = this.lookahead;
    if (token.kind !== 'end') this.lookahead = this.lexer.next();
    return token;
  }

  private fail(found: Token, expected: string): never {
    throw new SyntaxFailure(found.column, `expected ${expected} at column ${found.column}, found ${describeToken(found)}`);
  }

  private invalid(token: Token, what: string, problem: string): never {
    throw new SyntaxFailure(token.column, `invalid ${what} ${describeToken(token)} at column ${token.column}: ${problem}`);
  }
}
