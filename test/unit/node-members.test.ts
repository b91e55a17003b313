import { describe, expect, it } from 'vitest';
import { LAMBDA_ENVIRONMENT_LIMIT_BYTES, decodeNodeMembers, encodeNodeMembers, environmentBytes } from '../../lib/contracts/node-members';

describe('the authorizer node ownership map (NODE_MEMBERS)', () => {
  const map = { 'validator-1': 'acme', 'validator-2': 'acme', 'validator-3': 'globex', rpc: 'globex' };

  it('is written grouped by member and read back exactly', () => {
    const text = encodeNodeMembers(map);
    expect(JSON.parse(text)).toEqual({ acme: ['validator-1', 'validator-2'], globex: ['validator-3', 'rpc'] });
    expect({ ...decodeNodeMembers(text) }).toEqual(map);
  });

  it('still reads the older flat form', () => {
    expect({ ...decodeNodeMembers(JSON.stringify(map)) }).toEqual(map);
  });

  it('fails closed on anything else: no node has an owner', () => {
    for (const bad of [undefined, '', 'not json', '[]', 'null', '42', '{"acme": 7}', '{"acme": [1, null]}']) {
      expect(Object.keys(decodeNodeMembers(bad))).toEqual([]);
    }
    // Inherited names never resolve to an owner.
    const decoded = decodeNodeMembers(encodeNodeMembers(map));
    expect(decoded['constructor']).toBeUndefined();
    expect(decoded['__proto__']).toBeUndefined();
  });

  it('keeps 128 nodes with 24-character ids under Lambda\'s 4 KB environment limit', () => {
    const many = Object.fromEntries(Array.from({ length: 128 }, (_, i) => [`node-${String(i).padStart(3, '0')}-${'x'.repeat(15)}`, i % 2 ? 'member-organisation-a' : 'member-organisation-b']));
    expect(Object.keys(many)[0]).toHaveLength(24);
    const bytes = environmentBytes({ TENANT_ID: 'tenant-with-a-long-name', ENVIRONMENT_ID: 'environment-long-name', NODE_MEMBERS: encodeNodeMembers(many), ALLOW_TTL_SECONDS: '60' });
    expect(bytes).toBeLessThan(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
    // The flat form would not have fit.
    expect(environmentBytes({ NODE_MEMBERS: JSON.stringify(many) })).toBeGreaterThan(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
  });
});
