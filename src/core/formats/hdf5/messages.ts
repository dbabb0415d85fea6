// Decoders for the object header messages this reader uses (HDF5 File Format Specification, IV.A.2).
// Each takes the message bytes and returns plain data; nothing here does I/O.
import { ModelReadError } from '../../io/errors';
import { ByteCursor, bytesNeeded, cString, UNDEFINED_ADDRESS, utf8 } from './bytes';

export const MSG = {
  nil: 0x0000,
  dataspace: 0x0001,
  linkInfo: 0x0002,
  datatype: 0x0003,
  fillValueOld: 0x0004,
  fillValue: 0x0005,
  link: 0x0006,
  externalFiles: 0x0007,
  layout: 0x0008,
  groupInfo: 0x000a,
  filterPipeline: 0x000b,
  attribute: 0x000c,
  continuation: 0x0010,
  symbolTable: 0x0011,
  attributeInfo: 0x0015,
} as const;

/** Sizes every decoder needs: from the superblock. */
export interface Sizes {
  readonly offsetSize: number;
  readonly lengthSize: number;
  readonly file: string;
}

// ---------------------------------------------------------------- datatype

export type Datatype =
  | { readonly kind: 'int'; readonly size: number; readonly signed: boolean; readonly bigEndian: boolean }
  | { readonly kind: 'float'; readonly size: number; readonly bigEndian: boolean; readonly ieee: boolean }
  | { readonly kind: 'string'; readonly size: number; readonly padding: number; readonly utf8: boolean }
  | { readonly kind: 'vlen-string'; readonly size: number; readonly utf8: boolean }
  | { readonly kind: 'vlen-sequence'; readonly size: number; readonly base: Datatype }
  | { readonly kind: 'enum'; readonly size: number; readonly base: Datatype; readonly names: readonly string[]; readonly values: readonly number[] }
  | { readonly kind: 'array'; readonly size: number; readonly dims: readonly number[]; readonly base: Datatype }
  | { readonly kind: 'compound'; readonly size: number; readonly members: readonly { name: string; offset: number; type: Datatype }[] }
  | { readonly kind: 'other'; readonly size: number; readonly classId: number };

const MAX_TYPE_DEPTH = 16;

/** Decodes one datatype encoding at the cursor, consuming exactly its bytes (so nested types work). */
export function parseDatatype(c: ByteCursor, depth = 0): Datatype {
  if (depth > MAX_TYPE_DEPTH) throw new ModelReadError(c.file, 'too-deep', `${c.what}: datatype nesting deeper than ${MAX_TYPE_DEPTH}`);
  const classAndVersion = c.u8();
  const cls = classAndVersion & 0x0f;
  const version = classAndVersion >> 4;
  const bits0 = c.u8();
  const bits1 = c.u8();
  const bits2 = c.u8();
  const bitField = bits0 | (bits1 << 8) | (bits2 << 16);
  const size = c.u32();
  if (size === 0) throw new ModelReadError(c.file, 'bad-datatype', `${c.what}: datatype of class ${cls} has size 0`);
  switch (cls) {
    case 0: {
      c.skip(4); // bit offset, bit precision
      return { kind: 'int', size, signed: (bitField & 0x08) !== 0, bigEndian: (bitField & 1) !== 0 };
    }
    case 1: {
      const bitOffset = c.u16();
      const precision = c.u16();
      const expLoc = c.u8();
      const expSize = c.u8();
      const mantLoc = c.u8();
      const mantSize = c.u8();
      c.u32(); // exponent bias
      const ieee =
        bitOffset === 0 &&
        mantLoc === 0 &&
        ((size === 2 && precision === 16 && expLoc === 10 && expSize === 5 && mantSize === 10) ||
          (size === 4 && precision === 32 && expLoc === 23 && expSize === 8 && mantSize === 23) ||
          (size === 8 && precision === 64 && expLoc === 52 && expSize === 11 && mantSize === 52));
      const order = (bitField & 1) | ((bitField >> 5) & 2);
      if (order === 2 || order === 3) return { kind: 'float', size, bigEndian: false, ieee: false };
      return { kind: 'float', size, bigEndian: order === 1, ieee };
    }
    case 3:
      return { kind: 'string', size, padding: bitField & 0x0f, utf8: ((bitField >> 4) & 0x0f) === 1 };
    case 9: {
      const base = parseDatatype(c, depth + 1);
      if ((bitField & 0x0f) === 1) return { kind: 'vlen-string', size, utf8: ((bitField >> 8) & 0x0f) === 1 };
      return { kind: 'vlen-sequence', size, base };
    }
    case 8: {
      const base = parseDatatype(c, depth + 1);
      const n = bitField & 0xffff;
      const names: string[] = [];
      for (let i = 0; i < n; i++) {
        const start = c.pos;
        let e = start;
        while (e < c.end && c.buf[e] !== 0) e++;
        if (e >= c.end) throw new ModelReadError(c.file, 'truncated', `${c.what}: enum member name is not terminated`);
        names.push(utf8(c.buf.subarray(start, e)));
        c.pos = e + 1;
        if (version < 3) c.align(8, start);
      }
      const values: number[] = [];
      for (let i = 0; i < n; i++) values.push(readIntLE(c.bytes(base.size), base.kind === 'int' && base.signed, base.kind === 'int' && base.bigEndian));
      return { kind: 'enum', size, base, names, values };
    }
    case 10: {
      const rank = c.u8();
      if (version < 3) c.skip(3);
      const dims: number[] = [];
      for (let i = 0; i < rank; i++) dims.push(c.u32());
      if (version < 3) c.skip(4 * rank);
      const base = parseDatatype(c, depth + 1);
      return { kind: 'array', size, dims, base };
    }
    case 6: {
      const n = bitField & 0xffff;
      const members: { name: string; offset: number; type: Datatype }[] = [];
      for (let i = 0; i < n; i++) {
        const start = c.pos;
        let e = start;
        while (e < c.end && c.buf[e] !== 0) e++;
        if (e >= c.end) throw new ModelReadError(c.file, 'truncated', `${c.what}: compound member name is not terminated`);
        const name = utf8(c.buf.subarray(start, e));
        c.pos = e + 1;
        let offset: number;
        if (version < 3) {
          c.align(8, start);
          offset = c.u32();
          if (version === 1) c.skip(1 + 3 + 4 + 4 + 16); // dimensionality, reserved, permutation, reserved, 4 dims
        } else {
          offset = c.uint(bytesNeeded(size));
        }
        members.push({ name, offset, type: parseDatatype(c, depth + 1) });
      }
      return { kind: 'compound', size, members };
    }
    case 2: // time
      c.skip(2);
      return { kind: 'other', size, classId: cls };
    case 4: // bitfield
      c.skip(4);
      return { kind: 'other', size, classId: cls };
    case 5: {
      // opaque: the tag length is in the bit field, NUL-padded to 8
      const tagLen = bitField & 0xff;
      c.skip(tagLen);
      return { kind: 'other', size, classId: cls };
    }
    case 7:
      return { kind: 'other', size, classId: cls };
    case 11: {
      parseDatatype(c, depth + 1);
      return { kind: 'other', size, classId: cls };
    }
    default:
      throw new ModelReadError(c.file, 'bad-datatype', `${c.what}: unknown datatype class ${cls}`);
  }
}

export function readIntLE(b: Uint8Array, signed: boolean, bigEndian: boolean): number {
  let v = 0;
  const n = b.length;
  for (let i = 0; i < n; i++) {
    const byte = bigEndian ? b[i]! : b[n - 1 - i]!;
    v = v * 256 + byte;
  }
  if (signed && n > 0 && n <= 6) {
    const top = 2 ** (8 * n);
    if (v >= top / 2) v -= top;
  } else if (signed && n > 6) {
    const big = bigEndian ? b[0]! : b[n - 1]!;
    if (big & 0x80) {
      // Two's complement for 7/8-byte values; exact for anything representable as a double.
      let inv = 0;
      for (let i = 0; i < n; i++) inv = inv * 256 + (255 - (bigEndian ? b[i]! : b[n - 1 - i]!));
      v = -(inv + 1);
    }
  }
  return v;
}

/** TensorFlow-style dtype name for an HDF5 type, e.g. 'float32', 'int64', 'string', 'bool'. */
export function dtypeName(t: Datatype): string {
  switch (t.kind) {
    case 'int':
      return `${t.signed ? 'int' : 'uint'}${t.size * 8}`;
    case 'float':
      return t.ieee ? `float${t.size * 8}` : `float${t.size * 8}-nonieee`;
    case 'string':
    case 'vlen-string':
      return 'string';
    case 'enum':
      return isBoolEnum(t) ? 'bool' : dtypeName(t.base);
    case 'array':
      return `array<${dtypeName(t.base)}>`;
    case 'vlen-sequence':
      return `vlen<${dtypeName(t.base)}>`;
    case 'compound':
      return 'compound';
    case 'other':
      return `hdf5-class-${t.classId}`;
  }
}

/** h5py stores numpy bool as an enum {FALSE: 0, TRUE: 1} over int8. */
export function isBoolEnum(t: Datatype): boolean {
  return t.kind === 'enum' && t.names.length === 2 && t.names[0] === 'FALSE' && t.names[1] === 'TRUE' && t.values[0] === 0 && t.values[1] === 1;
}

// ---------------------------------------------------------------- dataspace

export interface Dataspace {
  readonly kind: 'scalar' | 'simple' | 'null';
  readonly dims: readonly number[];
  /** Maximum sizes (-1 unlimited); equal to dims when the file does not store them. */
  readonly maxDims: readonly number[];
}

export const MAX_RANK = 32;

export function parseDataspace(c: ByteCursor, s: Sizes): Dataspace {
  const version = c.u8();
  const rank = c.u8();
  const flags = c.u8();
  if (rank > MAX_RANK) throw new ModelReadError(s.file, 'bad-dataspace', `${c.what}: dataspace rank ${rank} exceeds ${MAX_RANK}`);
  let kind: Dataspace['kind'];
  if (version === 1) {
    c.skip(5);
    kind = rank === 0 ? 'scalar' : 'simple';
  } else if (version === 2) {
    const type = c.u8();
    if (type > 2) throw new ModelReadError(s.file, 'bad-dataspace', `${c.what}: unknown dataspace type ${type}`);
    kind = type === 0 ? 'scalar' : type === 1 ? 'simple' : 'null';
  } else {
    throw new ModelReadError(s.file, 'bad-dataspace', `${c.what}: unsupported dataspace message version ${version}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(c.uint(s.lengthSize));
  let maxDims: number[] = dims;
  if (flags & 1) {
    maxDims = [];
    for (let i = 0; i < rank; i++) maxDims.push(c.addr(s.lengthSize));
  }
  // Permutation indices (flags bit 1, version 1 only) were never implemented by the library.
  return kind === 'simple' ? { kind, dims, maxDims } : { kind, dims: [], maxDims: [] };
}

export function elementCountOf(space: Dataspace): number {
  if (space.kind === 'null') return 0;
  let n = 1;
  for (const d of space.dims) n *= d;
  return n;
}

// ---------------------------------------------------------------- layout

export type Layout =
  | { readonly kind: 'compact'; readonly data: Uint8Array }
  | { readonly kind: 'contiguous'; readonly address: number; readonly size: number }
  | { readonly kind: 'chunked'; readonly index: 'btree1' | 'single' | 'implicit' | 'fixed-array' | 'extensible-array' | 'btree2'; readonly address: number; readonly chunkDims: readonly number[]; readonly filteredSize?: number; readonly filterMask?: number }
  | { readonly kind: 'virtual' };

export function parseLayout(c: ByteCursor, s: Sizes): Layout {
  const version = c.u8();
  if (version === 1 || version === 2) {
    const ndims = c.u8();
    const cls = c.u8();
    c.skip(5);
    if (ndims > MAX_RANK + 1) throw new ModelReadError(s.file, 'bad-layout', `${c.what}: layout dimensionality ${ndims} is too large`);
    const address = cls === 0 ? UNDEFINED_ADDRESS : c.addr(s.offsetSize);
    const dims: number[] = [];
    for (let i = 0; i < ndims; i++) dims.push(c.u32());
    if (cls === 2) {
      c.u32(); // element size
      return { kind: 'chunked', index: 'btree1', address, chunkDims: dims.slice(0, -1) };
    }
    if (cls === 0) {
      const n = c.u32();
      return { kind: 'compact', data: c.bytes(n) };
    }
    if (cls === 1) {
      let size = 1;
      for (const d of dims) size *= d;
      return { kind: 'contiguous', address, size };
    }
    throw new ModelReadError(s.file, 'bad-layout', `${c.what}: unknown layout class ${cls}`);
  }
  // Version 5 (HDF5 2.0) has the version 4 structure.
  if (version < 3 || version > 5) throw new ModelReadError(s.file, 'bad-layout', `${c.what}: unsupported data layout message version ${version}`);
  const cls = c.u8();
  switch (cls) {
    case 0: {
      const n = c.u16();
      return { kind: 'compact', data: c.bytes(n) };
    }
    case 1: {
      const address = c.addr(s.offsetSize);
      const size = c.uint(s.lengthSize);
      return { kind: 'contiguous', address, size };
    }
    case 2: {
      if (version === 3) {
        const ndims = c.u8();
        if (ndims < 1 || ndims > MAX_RANK + 1) throw new ModelReadError(s.file, 'bad-layout', `${c.what}: chunk dimensionality ${ndims} is invalid`);
        const address = c.addr(s.offsetSize);
        const dims: number[] = [];
        for (let i = 0; i < ndims; i++) dims.push(c.u32());
        return { kind: 'chunked', index: 'btree1', address, chunkDims: dims.slice(0, -1) };
      }
      const flags = c.u8();
      const ndims = c.u8();
      const encLen = c.u8();
      if (ndims < 1 || ndims > MAX_RANK + 1 || encLen < 1 || encLen > 8) {
        throw new ModelReadError(s.file, 'bad-layout', `${c.what}: chunk dimensionality ${ndims} / encoded length ${encLen} is invalid`);
      }
      const dims: number[] = [];
      for (let i = 0; i < ndims; i++) dims.push(c.uint(encLen));
      const indexType = c.u8();
      const chunkDims = dims.slice(0, -1);
      switch (indexType) {
        case 1: {
          let filteredSize: number | undefined;
          let filterMask: number | undefined;
          if (flags & 2) {
            filteredSize = c.uint(s.lengthSize);
            filterMask = c.u32();
          }
          const address = c.addr(s.offsetSize);
          return { kind: 'chunked', index: 'single', address, chunkDims, filteredSize, filterMask };
        }
        case 2:
          return { kind: 'chunked', index: 'implicit', address: c.addr(s.offsetSize), chunkDims };
        case 3:
          c.skip(1);
          return { kind: 'chunked', index: 'fixed-array', address: c.addr(s.offsetSize), chunkDims };
        case 4:
          c.skip(5);
          return { kind: 'chunked', index: 'extensible-array', address: c.addr(s.offsetSize), chunkDims };
        case 5:
          c.skip(6);
          return { kind: 'chunked', index: 'btree2', address: c.addr(s.offsetSize), chunkDims };
        default:
          throw new ModelReadError(s.file, 'bad-layout', `${c.what}: unknown chunk index type ${indexType}`);
      }
    }
    case 3:
      return { kind: 'virtual' };
    default:
      throw new ModelReadError(s.file, 'bad-layout', `${c.what}: unknown layout class ${cls}`);
  }
}

// ---------------------------------------------------------------- filter pipeline

export interface Filter {
  readonly id: number;
  readonly name: string;
  readonly optional: boolean;
  readonly clientData: readonly number[];
}

export function parseFilterPipeline(c: ByteCursor, s: Sizes): Filter[] {
  const version = c.u8();
  const n = c.u8();
  if (version !== 1 && version !== 2) throw new ModelReadError(s.file, 'bad-filter', `${c.what}: unsupported filter pipeline version ${version}`);
  if (n > 32) throw new ModelReadError(s.file, 'bad-filter', `${c.what}: ${n} filters exceed the maximum of 32`);
  if (version === 1) c.skip(6);
  const out: Filter[] = [];
  for (let i = 0; i < n; i++) {
    const id = c.u16();
    const nameLen = version === 1 || id >= 256 ? c.u16() : 0;
    const flags = c.u16();
    const nValues = c.u16();
    let name = '';
    if (nameLen > 0) {
      const nb = c.bytes(nameLen);
      name = cString(nb, 0);
    }
    const clientData: number[] = [];
    for (let k = 0; k < nValues; k++) clientData.push(c.u32());
    if (version === 1 && nValues % 2 === 1) c.skip(4);
    out.push({ id, name, optional: (flags & 1) !== 0, clientData });
  }
  return out;
}

// ---------------------------------------------------------------- fill value

/** The fill value bytes, or null when undefined / default (zeros). */
export function parseFillValue(c: ByteCursor, old: boolean): Uint8Array | null {
  if (old) {
    const n = c.u32();
    return n > 0 ? c.bytes(n) : null;
  }
  const version = c.u8();
  if (version === 1 || version === 2) {
    c.skip(2);
    const defined = c.u8();
    if (version === 1 || defined) {
      const n = c.u32();
      return n > 0 ? c.bytes(n) : null;
    }
    return null;
  }
  if (version === 3) {
    const flags = c.u8();
    if (flags & 0x20) {
      const n = c.u32();
      return n > 0 ? c.bytes(n) : null;
    }
    return null;
  }
  throw new ModelReadError(c.file, 'bad-fill-value', `${c.what}: unsupported fill value message version ${version}`);
}

// ---------------------------------------------------------------- links

export type Link =
  | { readonly kind: 'hard'; readonly name: string; readonly address: number }
  | { readonly kind: 'soft'; readonly name: string; readonly target: string }
  | { readonly kind: 'external' | 'user'; readonly name: string };

export function parseLink(c: ByteCursor, s: Sizes): Link {
  const version = c.u8();
  if (version !== 1) throw new ModelReadError(s.file, 'bad-link', `${c.what}: unsupported link message version ${version}`);
  const flags = c.u8();
  const type = flags & 0x08 ? c.u8() : 0;
  if (flags & 0x04) c.skip(8);
  if (flags & 0x10) c.u8();
  const nameLen = c.uint(1 << (flags & 3));
  const name = utf8(c.bytes(nameLen));
  if (type === 0) return { kind: 'hard', name, address: c.addr(s.offsetSize) };
  if (type === 1) {
    const n = c.u16();
    return { kind: 'soft', name, target: utf8(c.bytes(n)) };
  }
  return { kind: type === 64 ? 'external' : 'user', name };
}

export interface LinkInfo {
  readonly heapAddress: number;
  readonly nameIndexAddress: number;
}

export function parseLinkInfo(c: ByteCursor, s: Sizes): LinkInfo {
  const version = c.u8();
  if (version !== 0) throw new ModelReadError(s.file, 'bad-link-info', `${c.what}: unsupported link info version ${version}`);
  const flags = c.u8();
  if (flags & 1) c.skip(8);
  const heapAddress = c.addr(s.offsetSize);
  const nameIndexAddress = c.addr(s.offsetSize);
  return { heapAddress, nameIndexAddress };
}

export interface AttributeInfo {
  readonly heapAddress: number;
  readonly nameIndexAddress: number;
}

export function parseAttributeInfo(c: ByteCursor, s: Sizes): AttributeInfo {
  const version = c.u8();
  if (version !== 0) throw new ModelReadError(s.file, 'bad-attribute-info', `${c.what}: unsupported attribute info version ${version}`);
  const flags = c.u8();
  if (flags & 1) c.skip(2);
  const heapAddress = c.addr(s.offsetSize);
  const nameIndexAddress = c.addr(s.offsetSize);
  return { heapAddress, nameIndexAddress };
}

export interface SymbolTableMessage {
  readonly btreeAddress: number;
  readonly heapAddress: number;
}

export function parseSymbolTable(c: ByteCursor, s: Sizes): SymbolTableMessage {
  return { btreeAddress: c.addr(s.offsetSize), heapAddress: c.addr(s.offsetSize) };
}

// ---------------------------------------------------------------- attributes

export interface RawAttribute {
  readonly name: string;
  readonly type: Datatype;
  readonly space: Dataspace;
  readonly data: Uint8Array;
  /** Set when the datatype is shared (committed elsewhere): the bytes to resolve, instead of `type`. */
  readonly sharedType: Uint8Array | null;
}

export function parseAttribute(c: ByteCursor, s: Sizes): RawAttribute {
  const version = c.u8();
  if (version < 1 || version > 3) throw new ModelReadError(s.file, 'bad-attribute', `${c.what}: unsupported attribute message version ${version}`);
  const flags = c.u8();
  const nameSize = c.u16();
  const typeSize = c.u16();
  const spaceSize = c.u16();
  if (version === 3) c.u8(); // name character set
  const pad = (n: number): number => (version === 1 ? (n + 7) & ~7 : n);
  const nameBytes = c.bytes(pad(nameSize));
  const name = cString(nameBytes, 0, nameSize);
  const typeBytes = c.bytes(pad(typeSize));
  const spaceBytes = c.bytes(pad(spaceSize));
  if (flags & 2) throw new ModelReadError(s.file, 'unsupported', `${c.what}: attribute "${name}" has a shared dataspace, which is not supported`);
  const space = parseDataspace(new ByteCursor(spaceBytes, s.file, `${c.what} (dataspace of attribute "${name}")`), s);
  let type: Datatype;
  let sharedType: Uint8Array | null = null;
  if (flags & 1) {
    sharedType = typeBytes.subarray(0, typeSize);
    type = { kind: 'other', size: 0, classId: -1 };
  } else {
    type = parseDatatype(new ByteCursor(typeBytes, s.file, `${c.what} (datatype of attribute "${name}")`, 0, typeSize));
  }
  const data = c.bytes(c.remaining);
  return { name, type, space, data, sharedType };
}

/** Address of the object header holding a shared ("committed") message. */
export function parseSharedMessageAddress(c: ByteCursor, s: Sizes): number {
  const version = c.u8();
  const type = c.u8();
  if (version === 1) {
    c.skip(6);
    return c.addr(s.offsetSize);
  }
  if (version === 2) return c.addr(s.offsetSize);
  if (version === 3) {
    if (type === 2) return c.addr(s.offsetSize);
    throw new ModelReadError(s.file, 'unsupported', `${c.what}: shared messages in the file's shared-message heap (type ${type}) are not supported`);
  }
  throw new ModelReadError(s.file, 'bad-shared-message', `${c.what}: unsupported shared message version ${version}`);
}
