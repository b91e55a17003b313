import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The Go gate's own unit tests (gate/: JSON screening, method policy, decision cache, upstream
// pool, metrics, authorizer answers), run by `go test` so that `npm test` runs them too.
describe('the Go gate (go test ./... in gate/)', () => {
  it('passes its unit tests and go vet', async () => {
    const cwd = path.join(__dirname, '..', '..', 'gate');
    const run = (args: string[]) => promisify(execFile)('go', args, { cwd, env: { ...process.env, GOFLAGS: '-mod=readonly' }, maxBuffer: 16 * 1024 * 1024 });
    await expect(run(['vet', './...'])).resolves.toBeDefined();
    const { stdout } = await run(['test', '-count=1', './...']);
    // Every package with tests ran and passed.
    for (const pkg of ['internal/cache', 'internal/gate', 'internal/rpc', 'internal/upstream']) expect(stdout).toMatch(new RegExp(`^ok\\s+\\S+/${pkg.replace('/', '\\/')}\\s`, 'm'));
    expect(stdout).not.toMatch(/^FAIL/m);
  }, 300_000);
});
