/**
 * A small, strict interpreter of the Amazon States Language for tests: it runs exactly the
 * features the control plane's engine uses (lib/management/control-plane.ts) and THROWS
 * `AslUnsupported` on any other field, state type, comparison, path syntax or intrinsic, so a
 * definition that grows beyond what is interpreted fails its test instead of passing silently.
 *
 * Implemented, with the semantics of the ASL spec and the Step Functions docs:
 * - top level: StartAt, States, Comment, TimeoutSeconds (recorded, not enforced);
 * - Task: Resource (looked up in `resources`), Parameters (`.$` reference paths and
 *   `States.Format`), ResultSelector, ResultPath (null, `$`, `$.a.b`), OutputPath, TimeoutSeconds
 *   (given to the resource, which may throw States.Timeout), Retry (ErrorEquals,
 *   IntervalSeconds, MaxAttempts, BackoffRate; the waits are recorded, never slept), Catch
 *   (ErrorEquals, Next, ResultPath), Next / End, Comment;
 * - Pass: Result, ResultPath, Next / End, Comment;
 * - Choice: Choices (Variable with BooleanEquals / IsPresent, And, Not; first match wins),
 *   Default, Comment; a Variable that is not in the input (other than IsPresent) is
 *   States.Runtime, as in Step Functions;
 * - Succeed (Comment), Fail (Error, Cause, ErrorPath, CausePath, Comment);
 * - error names: States.ALL matches every error but States.Runtime; States.TaskFailed matches
 *   every error but States.Timeout and States.Runtime; States.Runtime is never retried or caught.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

/** A feature of the definition the interpreter does not implement: the test must fail. */
export class AslUnsupported extends Error {
  constructor(where: string, what: string) {
    super(`ASL interpreter: ${where}: ${what} is not implemented (extend test/support/asl.ts, with its semantics, before the definition uses it)`);
    this.name = 'AslUnsupported';
  }
}

/** An error as Step Functions reports it: a name (`Error`) and a `Cause` string. */
export class StatesError extends Error {
  constructor(
    readonly error: string,
    override readonly cause: string,
  ) {
    super(`${error}: ${cause}`);
    this.name = 'StatesError';
  }
}

export interface TaskCall {
  readonly state: string;
  readonly resource: string;
  /** The resolved Parameters. */
  readonly parameters: Json;
  /** 0 for the first attempt, 1 for the first retry, ... */
  readonly attempt: number;
  readonly timeoutSeconds?: number;
}

/** A service integration: answers the task's raw result or throws a StatesError. */
export type TaskResource = (call: TaskCall) => Promise<Json>;

export interface HistoryEntry {
  readonly state: string;
  readonly type: string;
  /** Set for a Task attempt that failed. */
  readonly error?: string;
  /** Set when a Retry waits before the next attempt. */
  readonly retryAfterSeconds?: number;
  /** Set when a Catch moves on. */
  readonly caughtBy?: string;
}

export interface ExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
  /** Every state entered and every failed attempt, in order. */
  readonly history: HistoryEntry[];
  /** The states entered, in order (a retried Task appears once per attempt). */
  readonly path: string[];
  /** The waits the Retry policies asked for (seconds), in order; nothing was slept. */
  readonly waits: number[];
}

const only = (where: string, obj: Obj, allowed: readonly string[]) => {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) throw new AslUnsupported(where, `field ${k}`);
};
const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T extends Json>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const PATH = /^\$(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;

function segments(where: string, path: string): string[] {
  if (!PATH.test(path)) throw new AslUnsupported(where, `path ${JSON.stringify(path)} (only $ and $.a.b reference paths are)`);
  return path === '$' ? [] : path.slice(2).split('.');
}

/** The value at a reference path, or undefined when it is not in the input. */
function lookup(where: string, input: Json, path: string): Json | undefined {
  let cur: Json | undefined = input;
  for (const s of segments(where, path)) {
    if (!isObj(cur) || !(s in cur)) return undefined;
    cur = cur[s];
  }
  return cur;
}

function read(where: string, input: Json, path: string): Json {
  const v = lookup(where, input, path);
  if (v === undefined) throw new StatesError('States.Runtime', `${where}: Invalid path '${path}': the path does not exist in the input`);
  return v;
}

function intrinsic(where: string, input: Json, expr: string): Json {
  const m = /^States\.Format\('((?:[^'\\]|\\.)*)'((?:\s*,\s*\$[A-Za-z0-9_.-]*)*)\)$/.exec(expr);
  if (!m) throw new AslUnsupported(where, `intrinsic ${JSON.stringify(expr)} (only States.Format('...', $.path, ...) is)`);
  const args = m[2]
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean)
    .map((p) => read(where, input, p));
  const parts = m[1].replace(/\\(.)/g, '$1').split('{}');
  if (parts.length - 1 !== args.length) throw new StatesError('States.Runtime', `${where}: States.Format has ${parts.length - 1} placeholder(s) and ${args.length} argument(s)`);
  return parts.reduce((out, part, i) => {
    if (i === 0) return part;
    const a = args[i - 1];
    if (a !== null && typeof a === 'object') throw new StatesError('States.Runtime', `${where}: States.Format takes strings, numbers, booleans and null, not ${JSON.stringify(a)}`);
    return `${out}${String(a)}${part}`;
  }, '');
}

/** Parameters / ResultSelector: `key.$` fields take a path or an intrinsic; others are copied. */
function template(where: string, tpl: Json, input: Json): Json {
  if (Array.isArray(tpl)) return tpl.map((t) => template(where, t, input));
  if (!isObj(tpl)) return tpl;
  const out: Obj = {};
  for (const [k, v] of Object.entries(tpl)) {
    if (k.endsWith('.$')) {
      if (typeof v !== 'string') throw new StatesError('States.Runtime', `${where}: ${k} must be a string`);
      out[k.slice(0, -2)] = v.startsWith('States.') ? intrinsic(where, input, v) : clone(read(where, input, v));
    } else {
      out[k] = template(where, v, input);
    }
  }
  return out;
}

function applyResultPath(where: string, input: Json, result: Json, resultPath: Json | undefined): Json {
  if (resultPath === null) return input;
  const path = resultPath === undefined ? '$' : resultPath;
  if (typeof path !== 'string') throw new AslUnsupported(where, 'a ResultPath that is not a string or null');
  const segs = segments(where, path);
  if (!segs.length) return result;
  const out = clone(input);
  if (!isObj(out)) throw new StatesError('States.Runtime', `${where}: ResultPath ${path} needs an object input`);
  let cur: Obj = out;
  for (const s of segs.slice(0, -1)) {
    if (!(s in cur)) cur[s] = {};
    const next = cur[s];
    if (!isObj(next)) throw new StatesError('States.Runtime', `${where}: ResultPath ${path} crosses a non-object at ${s}`);
    cur = next;
  }
  cur[segs[segs.length - 1]] = result;
  return out;
}

function matches(error: string, names: Json): boolean {
  if (!Array.isArray(names)) throw new AslUnsupported('ErrorEquals', 'a non-array ErrorEquals');
  if (error === 'States.Runtime') return false;
  return names.some((n) => n === error || n === 'States.ALL' || (n === 'States.TaskFailed' && error !== 'States.Timeout'));
}

function choose(where: string, rule: Obj, input: Json): boolean {
  if ('And' in rule) {
    only(where, rule, ['And', 'Next']);
    const rules = rule.And;
    if (!Array.isArray(rules)) throw new AslUnsupported(where, 'a non-array And');
    return rules.every((r) => choose(where, r as Obj, input));
  }
  if ('Not' in rule) {
    only(where, rule, ['Not', 'Next']);
    return !choose(where, rule.Not as Obj, input);
  }
  only(where, rule, ['Variable', 'BooleanEquals', 'IsPresent', 'Next']);
  const variable = rule.Variable;
  if (typeof variable !== 'string') throw new AslUnsupported(where, 'a rule without a Variable path');
  if ('IsPresent' in rule) return (lookup(where, input, variable) !== undefined) === rule.IsPresent;
  if ('BooleanEquals' in rule) {
    const v = lookup(where, input, variable);
    // Step Functions fails the execution on a Variable that is not in the input.
    if (v === undefined) throw new StatesError('States.Runtime', `${where}: Invalid path '${variable}': The choice state's condition path references an invalid value.`);
    return v === rule.BooleanEquals;
  }
  throw new AslUnsupported(where, `the comparison of ${JSON.stringify(rule)}`);
}

/** Runs a state machine definition on `input` to its end. */
export async function runStateMachine(definition: Json, input: Json, resources: Readonly<Record<string, TaskResource>>): Promise<ExecutionResult> {
  if (!isObj(definition)) throw new AslUnsupported('definition', 'a non-object definition');
  only('definition', definition, ['StartAt', 'States', 'Comment', 'TimeoutSeconds']);
  const states = definition.States;
  if (!isObj(states)) throw new AslUnsupported('definition', 'States that are not an object');
  const history: HistoryEntry[] = [];
  const waits: number[] = [];
  const path: string[] = [];
  let name = definition.StartAt as string;
  let data: Json = clone(input);
  const fail = (error: string, cause: string): ExecutionResult => ({ status: 'FAILED', error, cause, history, path, waits });

  for (let steps = 0; ; steps++) {
    if (steps > 1000) throw new Error('ASL interpreter: more than 1000 state transitions (a loop?)');
    const state = states[name];
    if (!isObj(state)) throw new Error(`ASL interpreter: no state ${JSON.stringify(name)}`);
    const where = `state ${name}`;
    const type = state.Type as string;
    path.push(name);
    history.push({ state: name, type });
    const next = (): string | undefined => {
      if (state.End === true) return undefined;
      if (typeof state.Next !== 'string') throw new AslUnsupported(where, 'a state with neither Next nor End: true');
      return state.Next;
    };
    try {
      switch (type) {
        case 'Pass': {
          only(where, state, ['Type', 'Result', 'ResultPath', 'Next', 'End', 'Comment']);
          data = applyResultPath(where, data, state.Result === undefined ? data : clone(state.Result), state.ResultPath);
          break;
        }
        case 'Choice': {
          only(where, state, ['Type', 'Choices', 'Default', 'Comment']);
          const rules = state.Choices;
          if (!Array.isArray(rules)) throw new AslUnsupported(where, 'Choices that are not an array');
          const hit = rules.find((r) => choose(where, r as Obj, data)) as Obj | undefined;
          const to = (hit?.Next ?? state.Default) as string | undefined;
          if (to === undefined) throw new StatesError('States.NoChoiceMatched', `${where}: no rule matched and there is no Default`);
          name = to;
          continue;
        }
        case 'Succeed': {
          only(where, state, ['Type', 'Comment']);
          return { status: 'SUCCEEDED', output: data, history, path, waits };
        }
        case 'Fail': {
          only(where, state, ['Type', 'Error', 'Cause', 'ErrorPath', 'CausePath', 'Comment']);
          const error = typeof state.ErrorPath === 'string' ? read(where, data, state.ErrorPath) : state.Error;
          const cause = typeof state.CausePath === 'string' ? read(where, data, state.CausePath) : state.Cause;
          return fail(String(error ?? ''), String(cause ?? ''));
        }
        case 'Task': {
          only(where, state, ['Type', 'Resource', 'Parameters', 'ResultSelector', 'ResultPath', 'OutputPath', 'TimeoutSeconds', 'Retry', 'Catch', 'Next', 'End', 'Comment']);
          const resource = resources[state.Resource as string];
          if (!resource) throw new AslUnsupported(where, `the resource ${JSON.stringify(state.Resource)} (no integration given)`);
          const retriers = ((state.Retry ?? []) as Obj[]).map((r) => {
            only(`${where} Retry`, r, ['ErrorEquals', 'IntervalSeconds', 'MaxAttempts', 'BackoffRate']);
            return { r, attempts: 0 };
          });
          const catchers = (state.Catch ?? []) as Obj[];
          for (const c of catchers) only(`${where} Catch`, c, ['ErrorEquals', 'Next', 'ResultPath']);
          const parameters = state.Parameters === undefined ? data : template(where, state.Parameters, data);
          let caught: { to: string; data: Json } | undefined;
          for (let attempt = 0; ; attempt++) {
            try {
              const raw = await resource({
                state: name,
                resource: state.Resource as string,
                parameters: clone(parameters),
                attempt,
                ...(typeof state.TimeoutSeconds === 'number' ? { timeoutSeconds: state.TimeoutSeconds } : {}),
              });
              const selected = state.ResultSelector === undefined ? raw : template(`${where} ResultSelector`, state.ResultSelector, raw);
              data = applyResultPath(where, data, selected, state.ResultPath);
              if (state.OutputPath !== undefined) data = read(where, data, state.OutputPath as string);
              break;
            } catch (e) {
              if (!(e instanceof StatesError) || e.error === 'States.Runtime') throw e;
              history.push({ state: name, type, error: e.error });
              const retrier = retriers.find((x) => matches(e.error, x.r.ErrorEquals));
              const max = (retrier?.r.MaxAttempts ?? 3) as number;
              if (retrier && retrier.attempts < max) {
                const wait = ((retrier.r.IntervalSeconds ?? 1) as number) * ((retrier.r.BackoffRate ?? 2) as number) ** retrier.attempts;
                retrier.attempts++;
                waits.push(wait);
                history.push({ state: name, type, retryAfterSeconds: wait });
                path.push(name);
                continue;
              }
              const catcher = catchers.find((c) => matches(e.error, c.ErrorEquals));
              if (!catcher) throw e;
              history.push({ state: name, type, caughtBy: catcher.Next as string });
              caught = { to: catcher.Next as string, data: applyResultPath(where, data, { Error: e.error, Cause: e.cause }, catcher.ResultPath) };
              break;
            }
          }
          if (caught) {
            data = caught.data;
            name = caught.to;
            continue;
          }
          break;
        }
        default:
          throw new AslUnsupported(where, `the state type ${JSON.stringify(type)}`);
      }
    } catch (e) {
      if (e instanceof StatesError) return fail(e.error, e.cause);
      throw e;
    }
    const to = next();
    if (to === undefined) return { status: 'SUCCEEDED', output: data, history, path, waits };
    name = to;
  }
}
