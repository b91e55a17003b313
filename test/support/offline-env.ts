/**
 * The environment of a machine that has never seen AWS: no credentials, no region, no profile
 * (no `AWS_*` or `CDK_*` variable), an empty home and no instance metadata. `drop` removes more
 * variables (e.g. npm's own, for a process that must look like a user's shell).
 */
export function offlineEnv(home: string, extra: NodeJS.ProcessEnv = {}, drop?: RegExp): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|CDK_)/.test(k) || drop?.test(k)) continue;
    env[k] = v;
  }
  return { ...env, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', ...extra };
}
