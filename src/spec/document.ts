/**
 * Reads a JSON or YAML document into a plain value, turning every kind of bad
 * input into one Problem instead of an exception. What the value means is the
 * validator's business: a top-level string here is a valid document.
 *
 * Messages name the source and, when known, the position, compiler-style:
 * `job.yaml:3:7: Map keys must be unique`.
 */
import { Composer, LineCounter, Parser, type CST } from 'yaml';
import { findDuplicateKey } from './jsonDuplicateKeys.js';
import type { Problem } from './types.js';
import { measureAliasExpansion } from './yamlAliases.js';

export type DocumentParseResult = { ok: true; value: unknown } | { ok: false; problem: Problem };

/** Deeper documents are refused: the YAML composer and JSON.stringify recurse, and no JobSpec needs more. */
export const MAX_DEPTH = 256;
/** Any document: JSON.parse reads this much in well under a second. */
export const MAX_BYTES = 64 * 1024 * 1024;
/**
 * YAML reads at about 1 MiB/s and needs ~110 bytes of memory per input byte
 * (measured, docs/cli.md "Input"): 4 MiB take ~4 s and ~480 MB. Larger
 * fleets are written as generated groups, or as JSON (read 40x faster).
 */
export const MAX_YAML_BYTES = 4 * 1024 * 1024;
/**
 * The guard against alias bombs ("billion laughs"), by size, not by count: the
 * nodes aliases may add once expanded. A million nodes take well under a second
 * to validate; a bomb adds billions.
 */
export const MAX_ALIAS_EXPANSION = 1_000_000;

const MIB = 1024 * 1024;
const mebibytes = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

interface Position {
  line: number;
  col: number;
}

class DocumentProblem extends Error {
  constructor(
    message: string,
    readonly position?: Position,
    /** The field the problem is about, when there is one (a duplicated JSON key). */
    readonly path = '',
  ) {
    super(message);
  }
}

export function parseDocument(input: string | Uint8Array, source: string): DocumentParseResult {
  try {
    return { ok: true, value: readDocument(input) };
  } catch (error) {
    const problem = error instanceof DocumentProblem ? error : new DocumentProblem(unexpected(error));
    if (problem.path !== '') return { ok: false, problem: { path: problem.path, message: problem.message } };
    const where = problem.position ? `:${problem.position.line}:${problem.position.col}` : '';
    return { ok: false, problem: { path: '', message: `${source}${where}: ${problem.message}` } };
  }
}

function unexpected(error: unknown): string {
  if (error instanceof RangeError) return tooDeep();
  return `cannot be read: ${error instanceof Error ? error.message : String(error)}`;
}

const CYCLE = 'a YAML alias refers to a collection that contains it (a cycle)';

const tooDeep = (): string => `nested too deeply (more than ${MAX_DEPTH} levels)`;

function readDocument(input: string | Uint8Array): unknown {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size > MAX_BYTES) {
    throw new DocumentProblem(`file is too large (${mebibytes(size)}; at most ${MAX_BYTES / MIB} MiB)`);
  }
  const text = decodeText(input);
  const firstChar = /\S/.exec(text)?.[0];
  if (firstChar === undefined) throw new DocumentProblem('file is empty');
  if (firstChar === '{' || firstChar === '[') {
    try {
      const value: unknown = JSON.parse(text);
      refuseDuplicateKeys(text);
      return checkShape(value);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      // Not JSON after all: it may still be a YAML flow document, and YAML reports line and column.
      if (size > MAX_YAML_BYTES) throw new DocumentProblem(`invalid JSON: ${error.message}`);
    }
  }
  return readYaml(text, size);
}

function refuseDuplicateKeys(text: string): void {
  const duplicate = findDuplicateKey(text);
  if (duplicate === undefined) return;
  const { path, at, first } = duplicate;
  // The path names the field, so the position goes in the message (not `file:line:col:` before it).
  const message = `duplicate key at line ${at.line}, column ${at.col} (first at line ${first.line}, column ${first.col}): keys must be unique, in JSON as in YAML`;
  throw new DocumentProblem(message, undefined, path);
}

function decodeText(input: string | Uint8Array): string {
  const notText = (why: string) => new DocumentProblem(`not a text file (${why})`);
  if (typeof input === 'string') {
    if (input.includes('\u0000')) throw notText('it holds NUL characters');
    if (/\p{Surrogate}/u.test(input)) throw notText('it holds unpaired UTF-16 surrogates');
    return input.startsWith('\ufeff') ? input.slice(1) : input;
  }
  if (input.includes(0)) throw notText('it holds NUL bytes; UTF-16 files are not supported, save it as UTF-8');
  try {
    // TextDecoder drops a leading byte order mark.
    return new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw notText('it is not valid UTF-8');
  }
}

/** `size`: the document's UTF-8 bytes, what the limit (and the docs) count. */
function readYaml(text: string, size: number): unknown {
  if (size > MAX_YAML_BYTES) {
    throw new DocumentProblem(
      `file is too large for YAML (${mebibytes(size)}; YAML is read up to ${MAX_YAML_BYTES / MIB} MiB): write large fleets as generated groups, or as JSON`,
    );
  }
  const lines = new LineCounter();
  const at = (offset: number): Position => lines.linePos(offset);
  // The CST parser is iterative, the composer is not: measure the depth before composing.
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  const deepest = deepestToken(tokens);
  if (deepest !== undefined) throw new DocumentProblem(tooDeep(), at(deepest));

  const composer = new Composer({ version: '1.2', stringKeys: true, resolveKnownTags: false, uniqueKeys: true });
  const documents = [...composer.compose(tokens, true, text.length)];
  const [document, second] = documents;
  if (document === undefined) throw new DocumentProblem('file is empty');
  if (second !== undefined) {
    throw new DocumentProblem(
      `holds ${documents.length} YAML documents; a JobSpec file holds exactly one`,
      at(second.range[0]),
    );
  }
  // Warnings (an unknown tag, an unsupported %YAML version) would silently change meaning: refuse them too.
  const issue = document.errors[0] ?? document.warnings[0];
  if (issue !== undefined) throw new DocumentProblem(issue.message, at(issue.pos[0]));
  if (document.contents === null) throw new DocumentProblem('file is empty (it holds only comments)');

  const expansion = measureAliasExpansion(document, MAX_ALIAS_EXPANSION);
  if (!expansion.ok) {
    if (expansion.reason === 'cycle') throw new DocumentProblem(CYCLE);
    throw new DocumentProblem(
      `YAML aliases expand too much: the document's ${expansion.written} nodes become more than ${expansion.expandedAtLeast} ` +
        `(aliases may add at most ${MAX_ALIAS_EXPANSION.toLocaleString('en-US')} nodes)`,
    );
  }
  let value: unknown;
  try {
    // The expansion is bounded above, so yaml's own count of alias uses is off.
    value = document.toJS({ maxAliasCount: -1 });
  } catch (error) {
    // yaml throws ReferenceError for an alias to no anchor.
    if (error instanceof ReferenceError) throw new DocumentProblem(error.message);
    throw error;
  }
  return checkShape(value);
}

/** The offset of the first CST collection deeper than MAX_DEPTH, if any (iterative walk). */
function deepestToken(tokens: CST.Token[]): number | undefined {
  const stack: Array<{ token: CST.Token | undefined; depth: number }> = tokens.map((token) => ({ token, depth: 0 }));
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    const { token } = entry;
    if (token === undefined) continue;
    const isCollection = token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection';
    const depth = entry.depth + (isCollection ? 1 : 0);
    if (depth > MAX_DEPTH) return token.offset;
    if ('value' in token) stack.push({ token: token.value, depth });
    if (isCollection) {
      for (const item of token.items) {
        if ('key' in item) stack.push({ token: item.key ?? undefined, depth });
        stack.push({ token: item.value, depth });
      }
    }
  }
  return undefined;
}

/**
 * Refuses values nested deeper than MAX_DEPTH or holding cycles (a YAML
 * anchor can be aliased inside itself), so that later code may recurse and
 * serialize safely. Iterative, so it cannot overflow the stack itself.
 */
function checkShape(value: unknown): unknown {
  const ancestors = new Set<object>();
  const stack: Array<{ node: unknown; depth: number } | { leave: object }> = [{ node: value, depth: 0 }];
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    if ('leave' in entry) {
      ancestors.delete(entry.leave);
      continue;
    }
    const { node, depth } = entry;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= MAX_DEPTH) throw new DocumentProblem(tooDeep());
    if (ancestors.has(node)) throw new DocumentProblem(CYCLE);
    ancestors.add(node);
    stack.push({ leave: node });
    for (const child of Object.values(node)) stack.push({ node: child, depth: depth + 1 });
  }
  return value;
}
