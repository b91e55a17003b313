/**
 * IPv4 CIDR helpers used by config validation (pure, no CDK imports).
 */

/** A parsed IPv4 CIDR block. */
export interface Ipv4Cidr {
  /** The block as written, e.g. `10.10.0.0/16`. */
  readonly text: string;
  /** First address of the block as an unsigned 32-bit integer. */
  readonly start: number;
  /** Last address of the block as an unsigned 32-bit integer. */
  readonly end: number;
  /** Prefix length, 0-32. */
  readonly prefix: number;
}

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * Parses an IPv4 CIDR block. Returns an error sentence (without the field name) instead of
 * throwing, so callers can name the field.
 */
export function parseIpv4Cidr(text: string): Ipv4Cidr | string {
  const m = CIDR_RE.exec(text);
  if (!m) {
    return `is not an IPv4 CIDR block; write it as a.b.c.d/n, e.g. "10.10.0.0/16"`;
  }
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) {
    return `has an octet above 255`;
  }
  const prefix = Number(m[5]);
  if (prefix > 32) {
    return `has a prefix length above 32`;
  }
  const addr = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const size = 2 ** (32 - prefix);
  if (addr % size !== 0) {
    const base = addr - (addr % size);
    return `has host bits set; the network address for /${prefix} is ${intToIp(base)}/${prefix}`;
  }
  return { text, start: addr, end: addr + size - 1, prefix };
}

/** True when two blocks share at least one address. */
export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.start <= b.end && b.start <= a.end;
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}
