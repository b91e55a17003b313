/**
 * A tiny, dependency-free reader for untyped JSON config. Every check records a problem that
 * names the field by its JSON path and says how to fix it; nothing throws until the caller asks,
 * so one run reports every problem at once.
 */
export class FieldReader {
  private readonly found: string[] = [];

  /** Problems recorded so far. */
  public get problems(): readonly string[] {
    return this.found;
  }

  /** Records a problem for `path`. */
  public fail(path: string, message: string): void {
    this.found.push(`${path || '(top level)'}: ${message}`);
  }

  /**
   * Reads a plain object and refuses keys outside `allowed` (with a "did you mean" hint).
   * Returns undefined (after recording a problem) when `value` is not an object.
   */
  public object(path: string, value: unknown, allowed: readonly string[]): Record<string, unknown> | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.fail(path, `must be an object, got ${describe(value)}`);
      return undefined;
    }
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) {
        const hint = closest(key, allowed);
        this.fail(
          join(path, key),
          `unknown field${hint ? `; did you mean "${hint}"?` : ''} Allowed fields here: ${allowed.join(', ')}`,
        );
      }
    }
    return obj;
  }

  /** Reads an array (optionally with a minimum/maximum length). */
  public array(path: string, value: unknown, opts: { min?: number; max?: number } = {}): unknown[] | undefined {
    if (!Array.isArray(value)) {
      this.fail(path, `must be an array, got ${describe(value)}`);
      return undefined;
    }
    if (opts.min !== undefined && value.length < opts.min) {
      this.fail(path, `must have at least ${opts.min} entr${opts.min === 1 ? 'y' : 'ies'}, got ${value.length}`);
    }
    if (opts.max !== undefined && value.length > opts.max) {
      this.fail(path, `must have at most ${opts.max} entries, got ${value.length}`);
    }
    return value;
  }

  /** Reads a string; with `pattern`, `hint` explains the expected form. */
  public string(path: string, value: unknown, opts: { pattern?: RegExp; hint?: string } = {}): string | undefined {
    if (typeof value !== 'string') {
      this.fail(path, `must be a string, got ${describe(value)}`);
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      this.fail(path, `"${value}" is not valid; ${opts.hint ?? `it must match ${opts.pattern}`}`);
      return undefined;
    }
    return value;
  }

  /** Reads an integer within [min, max]. */
  public integer(path: string, value: unknown, opts: { min?: number; max?: number } = {}): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.fail(path, `must be a whole number, got ${describe(value)}`);
      return undefined;
    }
    if ((opts.min !== undefined && value < opts.min) || (opts.max !== undefined && value > opts.max)) {
      this.fail(path, `${value} is out of range; use a value from ${opts.min ?? '-inf'} to ${opts.max ?? 'inf'}`);
      return undefined;
    }
    return value;
  }

  /** Reads a boolean. */
  public boolean(path: string, value: unknown): boolean | undefined {
    if (typeof value !== 'boolean') {
      this.fail(path, `must be true or false, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  /** Reads one of a fixed set of strings. */
  public oneOf<T extends string>(path: string, value: unknown, choices: readonly T[]): T | undefined {
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      this.fail(path, `must be one of ${choices.map((c) => `"${c}"`).join(', ')}, got ${describe(value)}`);
      return undefined;
    }
    return value as T;
  }
}

/** Joins a JSON path and a key or index: `tenants[0].environments[1].cidr`. */
export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '...' : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** The allowed key closest to `key` by edit distance, when it is plausibly a typo. */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
