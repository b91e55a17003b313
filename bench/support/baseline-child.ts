// Child process: synthesizes N default environments with the hand-written plain aws-cdk-lib
// baseline (bench/baseline, no library code), with the same settings and stacks as synth-child.ts
// (bundling skipped, no nag packs, one stack per environment, each with its own CIDR), and prints
// a SynthMeasurement as JSON.
import { BaselineEnvironmentStack } from '../baseline/environment-stack';
import { benchEnvironments, measureSynth } from './environments';

const n = Number(process.env.ENVS ?? 1);
const environments = benchEnvironments(n);
measureSynth(n, (app) => {
  for (const e of environments) new BaselineEnvironmentStack(app, e);
});
