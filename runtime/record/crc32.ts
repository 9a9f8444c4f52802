// CRC-32 (the IEEE polynomial MCAP uses) over bytes with zlib's native implementation, and the
// CRC of two byte runs joined from the CRCs of each: a chunk's records are checksummed once, as
// they are written, and that one pass serves both the chunk's CRC and the data section's (the
// chunk header, which holds the chunk's CRC, comes before the records in the file).
import { crc32 as zlibCrc32 } from 'node:zlib';

/** CRC-32 of `bytes`, continuing from `crc` (the CRC of what came before; 0 to start). */
export const crc32 = (bytes: Uint8Array, crc = 0): number => zlibCrc32(bytes, crc);

// Polynomials over GF(2) modulo the CRC polynomial, in the reflected bit order CRC-32 uses:
// bit 31 holds x^0, bit 0 holds x^31.
const POLY = 0xedb88320;
const ONE = 0x80000000;

/** a·b mod P. */
function mulMod(a: number, b: number): number {
  let product = 0;
  for (let bit = ONE; bit !== 0 && a !== 0; bit >>>= 1) {
    if (a & bit) {
      product ^= b;
      a ^= bit;
    }
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1; // b·x
  }
  return product >>> 0;
}

/** x^(2^k) mod P for k = 0..63: x^(8·n) is a product of some of them. */
const X2K = (() => {
  const t = new Array<number>(64);
  t[0] = ONE >>> 1; // x^1
  for (let k = 1; k < t.length; k++) t[k] = mulMod(t[k - 1]!, t[k - 1]!);
  return t;
})();

/** x^(8·bytes) mod P: what appending `bytes` zero bytes multiplies a CRC's state by. */
function shiftFor(bytes: number): number {
  let p = ONE;
  for (let k = 3; bytes > 0; k++, bytes = Math.floor(bytes / 2)) if (bytes % 2) p = mulMod(X2K[k]!, p);
  return p;
}

/** The CRC of A then B, from crcA, crcB and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, bytesB: number): number {
  return (mulMod(shiftFor(bytesB), crcA) ^ crcB) >>> 0;
}
