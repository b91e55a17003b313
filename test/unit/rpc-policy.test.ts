import { describe, expect, it } from 'vitest';
import { NEVER_ALLOWED_METHODS, RpcPolicy, STANDARD_METHODS, allowedMethods, isNeverAllowed, refusal } from '../../lib/contracts/rpc-policy';

describe('RPC method policy (explicit names, not prefixes)', () => {
  it('allows the standard dApp methods, subscriptions and filters included, per client', () => {
    const geth = allowedMethods({ client: 'geth' });
    expect(geth).toEqual(expect.arrayContaining(['eth_call', 'eth_sendRawTransaction', 'eth_getLogs', 'eth_newFilter', 'eth_getFilterChanges', 'eth_subscribe', 'eth_unsubscribe', 'eth_feeHistory', 'net_version']));
    expect(allowedMethods({ client: 'besu' })).toEqual([...STANDARD_METHODS].sort());
    expect(allowedMethods({ client: 'goquorum' })).not.toContain('eth_getBlockReceipts');
    expect(refusal('eth_getBlockReceipts', { client: 'goquorum' })).toBe('method eth_getBlockReceipts is not allowed');
  });

  it('refuses what uses or reveals node keys or node state, whatever its spelling, and what is not listed', () => {
    const policy = new RpcPolicy();
    for (const m of [...NEVER_ALLOWED_METHODS, 'personal_sign', 'admin_peers', 'Admin_peers', 'ADMIN_peers', 'miner_start', 'debug_traceCall', 'txpool_status', 'clique_propose', 'eth_somethingNew', 'eth_', 'ETH_CHAINID']) {
      expect([m, policy.refusal(m)]).toEqual([m, `method ${m} is not allowed`]);
    }
    expect(policy.refusal('x'.repeat(65))).toBe('method not allowed');
    expect(policy.refusal('eth_chainId\u0000')).toBe('method not allowed');
    expect(policy.refusal(42)).toBe('invalid request: method must be a string');
    expect(policy.refusal('eth_chainId')).toBeUndefined();
  });

  it('takes extra exact names, never one that is never allowed, with a message that names the fix', () => {
    expect(allowedMethods({ extraAllowedMethods: ['eth_getHeaderByNumber'] })).toContain('eth_getHeaderByNumber');
    expect(() => allowedMethods({ extraAllowedMethods: ['eth_resend'] })).toThrow('extraAllowedMethods: eth_resend uses or reveals node keys or node state and can never be allowed; remove it');
    expect(() => allowedMethods({ extraAllowedMethods: ['debug_traceCall'] })).toThrow(/can never be allowed/);
    expect(() => allowedMethods({ extraAllowedMethods: ['eth_*'] })).toThrow("extraAllowedMethods: 'eth_*' is not a JSON-RPC method name; give exact names such as eth_getHeaderByNumber");
    expect(isNeverAllowed('Personal_sign')).toBe(true);
  });
});
