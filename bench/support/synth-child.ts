// Child process: synthesizes N default environments with the library (bundling skipped, nag packs
// off) and prints a SynthMeasurement as JSON. One process per measurement: peak memory is its own.
import { App } from 'aws-cdk-lib';
import { addTenantEnvironments, parseTenantsConfig } from '../../lib';
import { SynthMeasurement, benchEnvironments } from './environments';

const n = Number(process.env.ENVS ?? 1);
const environments = benchEnvironments(n);
const started = process.hrtime.bigint();
const cpuStarted = process.cpuUsage();
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir: process.env.OUTDIR });
const tenants = [...new Set(environments.map((e) => e.tenantId))];
const config = parseTenantsConfig({
  tenants: tenants.map((id) => ({
    id,
    environments: environments.filter((e) => e.tenantId === id).map((e) => ({ id: e.environmentId, cidr: e.cidr })),
  })),
});
addTenantEnvironments(app, config);
const assembly = app.synth();
const ms = Number(process.hrtime.bigint() - started) / 1e6;
const cpu = process.cpuUsage(cpuStarted);
const resources = assembly.stacks.reduce((a, s) => a + Object.keys(s.template.Resources ?? {}).length, 0);
const result: SynthMeasurement = { envs: n, ms: Math.round(ms), cpuMs: Math.round((cpu.user + cpu.system) / 1000), processMs: Math.round(process.uptime() * 1000), maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), resources };
console.log(JSON.stringify(result));
