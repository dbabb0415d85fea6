// Bob Jenkins' lookup3 "hashlittle" (public domain algorithm), which HDF5 uses (initval 0) as the
// checksum of version-2 metadata: superblock v2/v3, OHDR/OCHK, BTHD/BTIN/BTLF, FRHP/FHIB/FHDB.

function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export function lookup3(data: Uint8Array, start = 0, end = data.length, initval = 0): number {
  let length = end - start;
  let a = (0xdeadbeef + length + initval) | 0;
  let b = a;
  let c = a;
  let k = start;
  while (length > 12) {
    a = (a + (data[k]! | (data[k + 1]! << 8) | (data[k + 2]! << 16) | (data[k + 3]! << 24))) | 0;
    b = (b + (data[k + 4]! | (data[k + 5]! << 8) | (data[k + 6]! << 16) | (data[k + 7]! << 24))) | 0;
    c = (c + (data[k + 8]! | (data[k + 9]! << 8) | (data[k + 10]! << 16) | (data[k + 11]! << 24))) | 0;
    // mix(a, b, c)
    a = (a - c) | 0; a ^= rot(c, 4); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 8); b = (b + a) | 0;
    a = (a - c) | 0; a ^= rot(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 19); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 4); b = (b + a) | 0;
    length -= 12;
    k += 12;
  }
  if (length === 0) return c >>> 0;
  // The tail: up to 12 bytes added into a, b, c by position.
  for (let i = length - 1; i >= 0; i--) {
    const v = data[k + i]! << (8 * (i & 3));
    if (i >= 8) c = (c + v) | 0;
    else if (i >= 4) b = (b + v) | 0;
    else a = (a + v) | 0;
  }
  // final(a, b, c)
  c ^= b; c = (c - rot(b, 14)) | 0;
  a ^= c; a = (a - rot(c, 11)) | 0;
  b ^= a; b = (b - rot(a, 25)) | 0;
  c ^= b; c = (c - rot(b, 16)) | 0;
  a ^= c; a = (a - rot(c, 4)) | 0;
  b ^= a; b = (b - rot(a, 14)) | 0;
  c ^= b; c = (c - rot(b, 24)) | 0;
  return c >>> 0;
}
