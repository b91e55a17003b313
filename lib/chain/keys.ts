import { SigningKey, computeAddress, randomBytes, hexlify } from 'ethers';

/** Public identity of a node key: safe to put in outputs, genesis and static-nodes. */
export interface NodeIdentity {
  /** Checksummed Ethereum address (validator / signer id). */
  readonly address: string;
  /** Uncompressed secp256k1 public key without the 0x04 prefix, 128 hex chars (the enode id). */
  readonly enodeId: string;
}

const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;

/** Derives the public identity of a secp256k1 private key (0x + 64 hex). */
export function nodeIdentity(privateKey: string): NodeIdentity {
  if (!PRIVATE_KEY.test(privateKey)) {
    // Never echo the value: it may be key material.
    throw new Error('nodeIdentity: the private key must be 0x followed by 64 hex characters');
  }
  const key = new SigningKey(privateKey);
  return { address: computeAddress(key.publicKey), enodeId: key.publicKey.slice(4).toLowerCase() };
}

/** A fresh random node key (32 bytes from the platform CSPRNG, in the secp256k1 range). */
export function generateNodeKey(): string {
  for (;;) {
    const candidate = hexlify(randomBytes(32));
    try {
      new SigningKey(candidate);
      return candidate;
    } catch {
      // astronomically unlikely: zero or >= the curve order; draw again
    }
  }
}

/** Options of an enode URL. */
export interface EnodeOptions {
  /** TCP (and UDP discovery) port. @default 30303 */
  readonly port?: number;
  /** GoQuorum Raft port, added as `raftport`; discovery is then off (`discport=0`). */
  readonly raftPort?: number;
}

/** `enode://<id>@<ip>:<port>` (with `?discport=0&raftport=N` for Raft). */
export function enodeUrl(enodeId: string, ip: string, options: EnodeOptions = {}): string {
  if (!/^[0-9a-f]{128}$/.test(enodeId)) throw new Error(`enodeUrl: enodeId must be 128 lowercase hex characters`);
  if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(ip)) throw new Error(`enodeUrl: ip "${ip}" is not an IPv4 address`);
  const base = `enode://${enodeId}@${ip}:${options.port ?? 30303}`;
  return options.raftPort ? `${base}?discport=0&raftport=${options.raftPort}` : base;
}
