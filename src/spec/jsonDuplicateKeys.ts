/**
 * JSON.parse keeps the last of two equal keys and says nothing; the YAML reader
 * refuses them ("Map keys must be unique"). A JobSpec or a fleet whose meaning
 * depends on which copy wins is refused in JSON too (contract §2: every problem
 * named). jsonc-parser's visitor reads the text once, after JSON.parse has
 * accepted it, so only well-formed JSON gets here.
 */
import { visit } from 'jsonc-parser';
import { formatPath } from './path.js';

export interface DuplicateKey {
  /** The duplicated key's path, as problem paths read: `deployment.strategy`, `nodes[3].id`. */
  path: string;
  /** 1-based positions of the repeat and of the first occurrence. */
  at: { line: number; col: number };
  first: { line: number; col: number };
}

/** The first duplicated key of a well-formed JSON text, or undefined. Linear in the text's length. */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  // One map per open object: key -> where it was first seen.
  const open: Array<Map<string, { line: number; col: number }>> = [];
  let found: DuplicateKey | undefined;
  visit(text, {
    onObjectBegin: () => {
      if (found !== undefined) return false; // stop descending once found
      open.push(new Map());
    },
    onObjectEnd: () => {
      open.pop();
    },
    onObjectProperty: (key, _offset, _length, line, character, pathSupplier) => {
      const keys = open[open.length - 1];
      if (keys === undefined || found !== undefined) return;
      const here = { line: line + 1, col: character + 1 };
      const first = keys.get(key);
      if (first === undefined) keys.set(key, here);
      else found = { path: formatPath([...pathSupplier(), key]), at: here, first };
    },
  });
  return found;
}
