// Child process: synthesizes N default environments with the library (bundling skipped, nag packs
// off) and prints a SynthMeasurement as JSON. One process per measurement: peak memory is its own.
import { addTenantEnvironments, parseTenantsConfig } from '../../lib';
import { benchEnvironments, measureSynth } from './environments';

const n = Number(process.env.ENVS ?? 1);
const environments = benchEnvironments(n);
measureSynth(n, (app) => {
  const tenants = [...new Set(environments.map((e) => e.tenantId))];
  const config = parseTenantsConfig({
    tenants: tenants.map((id) => ({
      id,
      environments: environments.filter((e) => e.tenantId === id).map((e) => ({ id: e.environmentId, cidr: e.cidr })),
    })),
  });
  addTenantEnvironments(app, config);
});
