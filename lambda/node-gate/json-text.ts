/**
 * Raw JSON text helpers for the gate: it forwards the client's bytes and splices answers from raw
 * slices, so numbers (ids above 2^53, 1e400) and strings are never re-encoded, and nothing on a
 * request path recurses over client-controlled nesting. Every function here is iterative.
 * `elements` and `members` expect text JSON.parse accepted.
 */

/** The deepest nesting `text` reaches (brackets outside strings), stopping once it passes `limit`. */
export function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i = stringEnd(text, i) - 1;
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 93 /* ] */ || c === 125 /* } */) {
      depth--;
    }
  }
  return max;
}

/** Index just after the string that starts at `i` (a quote); the text length when unterminated. */
function stringEnd(text: string, i: number): number {
  const n = text.length;
  for (let j = i + 1; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c === 92 /* \ */) j++;
    else if (c === 34) return j + 1;
  }
  return n;
}

function skipSpace(text: string, i: number): number {
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    i++;
  }
  return i;
}

/** Index just after the JSON value that starts at `i` (no whitespace before it). */
function valueEnd(text: string, i: number): number {
  const n = text.length;
  const c = text.charCodeAt(i);
  if (c === 34) return stringEnd(text, i);
  if (c === 91 || c === 123) {
    let depth = 0;
    for (let j = i; j < n; j++) {
      const d = text.charCodeAt(j);
      if (d === 34) j = stringEnd(text, j) - 1;
      else if (d === 91 || d === 123) depth++;
      else if ((d === 93 || d === 125) && --depth === 0) return j + 1;
    }
    return n;
  }
  // A number or a literal: runs to the next delimiter.
  let j = i;
  while (j < n) {
    const d = text.charCodeAt(j);
    if (d === 44 || d === 93 || d === 125 || d === 32 || d === 9 || d === 10 || d === 13) break;
    j++;
  }
  return j;
}

/** A [start, end) span of `text`. */
export type Span = readonly [number, number];

/** The span of the whole value in `text` (without surrounding whitespace). */
export function valueSpan(text: string): Span {
  const start = skipSpace(text, 0);
  return [start, valueEnd(text, start)];
}

/** The element spans of the array that starts at `start`. */
export function elements(text: string, start: number): Span[] {
  const out: Span[] = [];
  let i = skipSpace(text, start + 1);
  if (text.charCodeAt(i) === 93) return out;
  for (;;) {
    const end = valueEnd(text, i);
    out.push([i, end]);
    i = skipSpace(text, end);
    if (text.charCodeAt(i) !== 44) return out;
    i = skipSpace(text, i + 1);
  }
}

/** One member of an object: its decoded name and the span of its raw value. */
export interface Member {
  readonly name: string;
  readonly value: Span;
}

/** The members of the object that starts at `start`, in text order (duplicates kept). */
export function members(text: string, start: number): Member[] {
  const out: Member[] = [];
  let i = skipSpace(text, start + 1);
  if (text.charCodeAt(i) === 125) return out;
  for (;;) {
    const keyEnd = stringEnd(text, i);
    const raw = text.slice(i, keyEnd);
    // Names with escapes (\u006dethod) decode as JSON.parse and the node decode them.
    const name = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
    i = skipSpace(text, skipSpace(text, keyEnd) + 1);
    const end = valueEnd(text, i);
    out.push({ name, value: [i, end] });
    i = skipSpace(text, end);
    if (text.charCodeAt(i) !== 44) return out;
    i = skipSpace(text, i + 1);
  }
}
