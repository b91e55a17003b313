import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_REFERENCE, renderApiReference } from '../../scripts/api-docs';

// The committed API reference (docs/api/README.md, linked from the README) is the code's doc
// comments as they are now: change a public construct, prop or doc comment and run `npm run docs`.
describe('the API reference', () => {
  it('is current (npm run docs regenerates it)', async () => {
    const page = await renderApiReference();
    expect(page).toContain('### BlockchainEnvironmentProps');
    expect(page).toContain('### ManagementApi');
    expect(readFileSync(API_REFERENCE, 'utf8') === page, 'docs/api/README.md is stale: run npm run docs').toBe(true);
  }, 300_000);
});
