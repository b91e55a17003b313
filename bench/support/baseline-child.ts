// Child process: synthesizes N default environments with the hand-written plain aws-cdk-lib
// baseline (bench/baseline, no library code), with the same settings and stacks as synth-child.ts
// (bundling skipped, no nag packs, one stack per environment, each with its own CIDR), and prints
// a SynthMeasurement as JSON.
import { App } from 'aws-cdk-lib';
import { BaselineEnvironmentStack } from '../baseline/environment-stack';
import { SynthMeasurement, benchEnvironments } from './environments';

const n = Number(process.env.ENVS ?? 1);
const environments = benchEnvironments(n);
const started = process.hrtime.bigint();
const cpuStarted = process.cpuUsage();
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir: process.env.OUTDIR });
for (const e of environments) new BaselineEnvironmentStack(app, e);
const assembly = app.synth();
const ms = Number(process.hrtime.bigint() - started) / 1e6;
const cpu = process.cpuUsage(cpuStarted);
const resources = assembly.stacks.reduce((a, s) => a + Object.keys(s.template.Resources ?? {}).length, 0);
const result: SynthMeasurement = { envs: n, ms: Math.round(ms), cpuMs: Math.round((cpu.user + cpu.system) / 1000), processMs: Math.round(process.uptime() * 1000), maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), resources };
console.log(JSON.stringify(result));
