/**
 * Cognito's Secure Remote Password (SRP-6a) for USER_SRP_AUTH: the password never leaves the
 * browser; Cognito gets SRP_A, answers SRP_B, SALT and SECRET_BLOCK, and the browser proves it
 * knows the password with PASSWORD_CLAIM_SIGNATURE (HMAC-SHA256 under a key derived with HKDF
 * from the shared secret). The group (3072-bit RFC 3526 prime, g = 2), the padding and the message
 * layout are Cognito's, as in amazon-cognito-identity-js's AuthenticationHelper. Pure (BigInt,
 * SHA-256 from @aws-crypto/sha256-js, the Web Crypto random source): unit tests run it in Node.
 */
import { Sha256 } from '@aws-crypto/sha256-js';

const N_HEX =
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF';
export const N = BigInt(`0x${N_HEX}`);
export const G = 2n;

export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = ((base % mod) + mod) % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

/** Cognito's padding: even length, and a leading 00 when the first bit is set (positive numbers). */
export function padHex(n: bigint): string {
  let hex = n.toString(16);
  if (hex.length % 2 !== 0) hex = `0${hex}`;
  return /^[89a-f]/i.test(hex) ? `00${hex}` : hex;
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const utf8 = (s: string) => new TextEncoder().encode(s);

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  const h = new Sha256();
  h.update(data);
  return h.digest();
}

export async function hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const h = new Sha256(key);
  h.update(data);
  return h.digest();
}

/** SHA-256 of the bytes a hex string stands for, as 64 hex digits. */
export const hexHash = async (hex: string) => toHex(await sha256(hexToBytes(hex)));

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** Base64 decoding of both alphabets (standard and URL-safe), padding optional. */
export function base64ToBytes(s: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const clean = s.replace(/=+$/, '');
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of clean) {
    const v = c === '+' || c === '-' ? 62 : c === '/' || c === '_' ? 63 : alphabet.indexOf(c);
    if (v < 0) throw new Error('SECRET_BLOCK is not base64');
    value = (value << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Cognito's TIMESTAMP: "Sun Nov 3 18:49:05 UTC 2026" (day of month not padded). */
export function cognitoTimestamp(now: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[now.getUTCDay()]} ${months[now.getUTCMonth()]} ${now.getUTCDate()} ${p(now.getUTCHours())}:${p(now.getUTCMinutes())}:${p(now.getUTCSeconds())} UTC ${now.getUTCFullYear()}`;
}

/** k = H(N | g) */
export const multiplier = async () => BigInt(`0x${await hexHash(padHex(N) + padHex(G))}`);

/** The client's ephemeral key pair: a (secret, 1024 random bits) and A = g^a mod N. */
export function ephemeral(random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): { a: bigint; A: bigint } {
  for (;;) {
    const a = BigInt(`0x${toHex(random(128))}`) % N;
    const A = modPow(G, a, N);
    if (a !== 0n && A % N !== 0n) return { a, A };
  }
}

export interface PasswordVerifierChallenge {
  readonly SRP_B: string;
  readonly SALT: string;
  readonly SECRET_BLOCK: string;
  readonly USER_ID_FOR_SRP: string;
}

/** The 16-byte key both sides derive from the shared secret S and the scrambler u. */
export async function passwordAuthenticationKey(userPoolId: string, userIdForSrp: string, password: string, a: bigint, A: bigint, B: bigint, saltHex: string): Promise<Uint8Array> {
  if (B % N === 0n) throw new Error('Cognito answered an invalid SRP_B; sign in again');
  const u = BigInt(`0x${await hexHash(padHex(A) + padHex(B))}`);
  if (u === 0n) throw new Error('SRP scrambler is zero; sign in again');
  const poolName = userPoolId.split('_')[1];
  const userPasswordHash = toHex(await sha256(utf8(`${poolName}${userIdForSrp}:${password}`)));
  const x = BigInt(`0x${await hexHash(padHex(BigInt(`0x${saltHex}`)) + userPasswordHash)}`);
  const k = await multiplier();
  const S = modPow(B - k * modPow(G, x, N), a + u * x, N);
  // HKDF-SHA256 (RFC 5869), one block: PRK = HMAC(u, S); OKM = HMAC(PRK, info | 0x01)[0..16)
  const prk = await hmacSha256(hexToBytes(padHex(u)), hexToBytes(padHex(S)));
  return (await hmacSha256(prk, concat(utf8('Caldera Derived Key'), Uint8Array.of(1)))).slice(0, 16);
}

/** The ChallengeResponses of PASSWORD_VERIFIER (without USERNAME). */
export async function passwordVerifierResponses(
  userPoolId: string,
  password: string,
  eph: { a: bigint; A: bigint },
  challenge: PasswordVerifierChallenge,
  now: Date = new Date(),
): Promise<{ PASSWORD_CLAIM_SECRET_BLOCK: string; PASSWORD_CLAIM_SIGNATURE: string; TIMESTAMP: string }> {
  const key = await passwordAuthenticationKey(userPoolId, challenge.USER_ID_FOR_SRP, password, eph.a, eph.A, BigInt(`0x${challenge.SRP_B}`), challenge.SALT);
  const timestamp = cognitoTimestamp(now);
  const poolName = userPoolId.split('_')[1];
  const message = concat(utf8(poolName), utf8(challenge.USER_ID_FOR_SRP), base64ToBytes(challenge.SECRET_BLOCK), utf8(timestamp));
  return { PASSWORD_CLAIM_SECRET_BLOCK: challenge.SECRET_BLOCK, PASSWORD_CLAIM_SIGNATURE: bytesToBase64(await hmacSha256(key, message)), TIMESTAMP: timestamp };
}
