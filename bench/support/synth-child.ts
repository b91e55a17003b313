// Child process: synthesizes N default environments (bundling skipped, nag packs off) and prints
// {envs, ms, maxRssMiB, resources} as JSON. One process per measurement: peak memory is its own.
import { App } from 'aws-cdk-lib';
import { addTenantEnvironments, parseTenantsConfig } from '../../lib';

const n = Number(process.env.ENVS ?? 1);
const started = process.hrtime.bigint();
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir: process.env.OUTDIR });
const config = parseTenantsConfig({
  tenants: Array.from({ length: Math.ceil(n / 50) }, (_, t) => ({
    id: `tenant-${t}`,
    environments: Array.from({ length: Math.min(50, n - t * 50) }, (_, e) => ({ id: `env-${e}`, cidr: `10.${(t * 50 + e) % 256}.0.0/16`.replace(/^10\.(\d+)/, (_m, x) => `${10 + Math.floor((t * 50 + e) / 256)}.${x}`) })),
  })),
});
addTenantEnvironments(app, config);
const assembly = app.synth();
const ms = Number(process.hrtime.bigint() - started) / 1e6;
const resources = assembly.stacks.reduce((a, s) => a + Object.keys(s.template.Resources ?? {}).length, 0);
console.log(JSON.stringify({ envs: n, ms: Math.round(ms), maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), resources }));
