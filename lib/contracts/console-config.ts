/**
 * The console's runtime settings, `/config.json` at the site root (pure; the hosting construct
 * writes it at deploy time, the console reads and checks it at start, the browser tests serve it).
 */
export interface ConsoleConfig {
  /** The region of the user pool, identity pool and management API, e.g. eu-west-1. */
  readonly region: string;
  /** The management API's base URL, ending with its stage, e.g. https://abc.execute-api.eu-west-1.amazonaws.com/v1 */
  readonly apiEndpoint: string;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  readonly identityPoolId: string;
  /** True when the control-plane (environment lifecycle) routes are enabled. */
  readonly lifecycle: boolean;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/**
 * Checks a parsed config.json; throws an Error naming the field and the fix. `http://` API
 * endpoints are accepted only on 127.0.0.1 / localhost (the local test setup).
 */
export function parseConsoleConfig(value: unknown): ConsoleConfig {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('config.json must be a JSON object with region, apiEndpoint, userPoolId, userPoolClientId, identityPoolId and lifecycle');
  const v = value as Record<string, unknown>;
  const str = (field: string, check: (s: string) => boolean, hint: string): string => {
    const s = v[field];
    if (typeof s !== 'string' || !check(s)) throw new Error(`config.json: ${field} ${typeof s === 'string' ? `"${s.slice(0, 80)}"` : 'is missing or'} is not valid; ${hint}`);
    return s;
  };
  const region = str('region', (s) => REGION.test(s), 'give an AWS region code, e.g. eu-west-1');
  const apiEndpoint = str(
    'apiEndpoint',
    (s) => {
      try {
        const u = new URL(s);
        return u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(u.hostname));
      } catch {
        return false;
      }
    },
    'give the management API base URL with its stage, e.g. https://abc.execute-api.eu-west-1.amazonaws.com/v1',
  );
  const userPoolId = str('userPoolId', (s) => /^[a-z]{2}(-[a-z]+)+-\d_[A-Za-z0-9]+$/.test(s), 'give the user pool id, e.g. eu-west-1_AbCdEf123');
  const userPoolClientId = str('userPoolClientId', (s) => /^[A-Za-z0-9]{1,128}$/.test(s), "give the user pool app client's id");
  const identityPoolId = str('identityPoolId', (s) => /^[a-z]{2}(-[a-z]+)+-\d:[0-9a-f-]+$/.test(s), 'give the identity pool id, e.g. eu-west-1:01234567-89ab-cdef-0123-456789abcdef');
  if (typeof v.lifecycle !== 'boolean') throw new Error('config.json: lifecycle must be true or false (true when the control-plane routes are enabled)');
  return { region, apiEndpoint: apiEndpoint.replace(/\/+$/, ''), userPoolId, userPoolClientId, identityPoolId, lifecycle: v.lifecycle };
}
