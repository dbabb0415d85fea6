// Protobuf binary wire reader. Every read is bounds-checked and reports problems as ModelReadError naming
// the file, the message and the field; nothing else may escape (the generated decoders in gen/ rely on it).
// Length-delimited values are returned as subarray views of the input: nothing is copied.
import { LIMITS, ModelReadError } from '../../io/errors';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32', '6', '7'];
const TWO_32 = 4294967296;

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Shared default for unset bytes fields. Never written to. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** A value kept undecoded until asked for (function bodies, tensor contents). `get()` caches its result. */
export interface Lazy<T> {
  /** Size of the encoded value in bytes (0 when it came from text format). */
  readonly byteLength: number;
  /** Offset of the encoded value in the buffer it was read from (-1 when it came from text format). */
  readonly byteOffset: number;
  /** Decodes on first call. Throws ModelReadError for malformed bytes. */
  get(): T;
}

/** A lazy value that is already decoded (text format, or built in code). */
export function lazyValue<T>(value: T): Lazy<T> {
  return { byteLength: 0, byteOffset: -1, get: () => value };
}

/** Where a lazy value's bytes are: for decoders that scan a few fields themselves before (or instead of) `get()`. */
export interface WireRange {
  readonly buf: Uint8Array;
  readonly start: number;
  readonly end: number;
  readonly file: string;
  /** Nesting depth of the enclosing message (the value's decoder enters one level deeper). */
  readonly depth: number;
}

/** The byte range of a value read from binary, or null (text format, or built in code). */
export function wireRange(l: Lazy<unknown>): WireRange | null {
  return l instanceof WireLazy ? l.range() : null;
}

class WireLazy<T> implements Lazy<T> {
  private value: T | undefined;
  private done = false;
  constructor(
    private readonly buf: Uint8Array,
    readonly byteOffset: number,
    readonly byteLength: number,
    private readonly file: string,
    private readonly depth: number,
    private readonly decode: (r: Reader, end: number) => T,
  ) {}

  range(): WireRange {
    return { buf: this.buf, start: this.byteOffset, end: this.byteOffset + this.byteLength, file: this.file, depth: this.depth };
  }

  get(): T {
    if (!this.done) {
      const r = new Reader(this.buf, this.file, this.byteOffset);
      r.depth = this.depth;
      this.value = this.decode(r, this.byteOffset + this.byteLength);
      this.done = true;
    }
    return this.value as T;
  }
}

export class Reader {
  readonly buf: Uint8Array;
  /** File name used in error messages. */
  readonly file: string;
  pos: number;
  /** Current message nesting depth (checked against LIMITS.maxDepth). */
  depth = 0;
  private dataView: DataView | null = null;

  constructor(buf: Uint8Array, file: string, pos = 0) {
    this.buf = buf;
    this.file = file;
    this.pos = pos;
  }

  /** Made on first fixed-width read: most readers (one per lazy value decoded) read only varints and bytes. */
  private get view(): DataView {
    return (this.dataView ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  fail(reason: string, detail: string): never {
    throw new ModelReadError(this.file, reason, detail);
  }

  /** Called by every message decoder on entry; the decoder decrements `depth` on exit. */
  enter(msg: string): void {
    if (++this.depth > LIMITS.maxDepth) {
      this.fail('too-deep', `${msg} is nested more than ${LIMITS.maxDepth} levels deep (at byte ${this.pos})`);
    }
  }

  /** Called by a decoder after its field loop: a field must not run past the message's end. */
  finish(end: number, msg: string): void {
    if (this.pos !== end) {
      this.fail('truncated', `a field of ${msg} runs ${this.pos - end} bytes past the end of the message (byte ${end})`);
    }
    this.depth--;
  }

  /** Reads a field tag; rejects field number 0 and wire types 6 and 7. */
  tag(msg: string): number {
    const start = this.pos;
    const t = this.varint32(msg, 0);
    const wt = t & 7;
    if (t >>> 3 === 0 || wt > 5) {
      this.fail('bad-wire-type', `invalid field tag ${t >>> 0} (field ${t >>> 3}, wire type ${wt}) in ${msg} at byte ${start}`);
    }
    return t;
  }

  /** Varint truncated to its low 32 bits (as protobuf does for int32/uint32/enum). Returned signed. */
  private varint32(msg: string, field: number): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos < buf.length) {
      const b = buf[pos];
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    let result = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) this.truncatedVarint(msg, field);
      const b = buf[pos++];
      if (i < 5) result |= (b & 0x7f) << (7 * i);
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
    }
    return this.fail('bad-varint', `varint longer than 10 bytes in ${describe(msg, field)} at byte ${this.pos}`);
  }

  /** Full 64-bit varint as two unsigned 32-bit halves in this.lo / this.hi. */
  private lo = 0;
  private hi = 0;
  private varint64(msg: string, field: number): void {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) this.truncatedVarint(msg, field);
      const b = buf[pos++];
      const v = b & 0x7f;
      if (i < 4) lo |= v << (7 * i);
      else if (i === 4) {
        lo |= v << 28;
        hi |= v >>> 4;
      } else hi |= v << (7 * i - 32);
      if (b < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    this.fail('bad-varint', `varint longer than 10 bytes in ${describe(msg, field)} at byte ${this.pos}`);
  }

  private truncatedVarint(msg: string, field: number): never {
    return this.fail('truncated', `${describe(msg, field)} ends inside a varint at byte ${this.buf.length}`);
  }

  int32(msg: string, field: number): number {
    return this.varint32(msg, field) | 0;
  }
  uint32(msg: string, field: number): number {
    return this.varint32(msg, field) >>> 0;
  }
  sint32(msg: string, field: number): number {
    const n = this.varint32(msg, field) >>> 0;
    return (n >>> 1) ^ -(n & 1);
  }
  enumValue(msg: string, field: number): number {
    return this.varint32(msg, field) | 0;
  }
  bool(msg: string, field: number): boolean {
    this.varint64(msg, field);
    return this.lo !== 0 || this.hi !== 0;
  }

  /** int64 as a number: exact up to 2^53 in magnitude, rounded beyond (never throws for range). */
  int64(msg: string, field: number): number {
    this.varint64(msg, field);
    return signedNumber(this.lo, this.hi);
  }
  uint64(msg: string, field: number): number {
    this.varint64(msg, field);
    return this.hi * TWO_32 + this.lo;
  }
  sint64(msg: string, field: number): number {
    this.varint64(msg, field);
    const { lo, hi } = unzigzag(this.lo, this.hi);
    return signedNumber(lo, hi);
  }
  int64Big(msg: string, field: number): bigint {
    this.varint64(msg, field);
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }
  uint64Big(msg: string, field: number): bigint {
    this.varint64(msg, field);
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }
  sint64Big(msg: string, field: number): bigint {
    this.varint64(msg, field);
    const { lo, hi } = unzigzag(this.lo, this.hi);
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }

  private need(n: number, msg: string, field: number): number {
    const p = this.pos;
    if (p + n > this.buf.length) {
      this.fail('truncated', `${describe(msg, field)} needs ${n} bytes at byte ${p} but ${this.buf.length - p} remain`);
    }
    this.pos = p + n;
    return p;
  }
  fixed32(msg: string, field: number): number {
    return this.view.getUint32(this.need(4, msg, field), true);
  }
  sfixed32(msg: string, field: number): number {
    return this.view.getInt32(this.need(4, msg, field), true);
  }
  float(msg: string, field: number): number {
    return this.view.getFloat32(this.need(4, msg, field), true);
  }
  double(msg: string, field: number): number {
    return this.view.getFloat64(this.need(8, msg, field), true);
  }
  fixed64(msg: string, field: number): number {
    const p = this.need(8, msg, field);
    return this.view.getUint32(p + 4, true) * TWO_32 + this.view.getUint32(p, true);
  }
  sfixed64(msg: string, field: number): number {
    const p = this.need(8, msg, field);
    return signedNumber(this.view.getUint32(p, true), this.view.getUint32(p + 4, true));
  }
  fixed64Big(msg: string, field: number): bigint {
    return this.view.getBigUint64(this.need(8, msg, field), true);
  }
  sfixed64Big(msg: string, field: number): bigint {
    return this.view.getBigInt64(this.need(8, msg, field), true);
  }

  /**
   * Reads a length prefix and returns the end offset of the value. The length must fit inside `end`
   * (the enclosing message's end), else: "field 2 of MetaGraphDef declares 4294967295 bytes but 1200 remain".
   */
  lenEnd(end: number, msg: string, field: number): number {
    this.varint64(msg, field);
    const remain = end - this.pos;
    if (this.hi !== 0 || this.lo > remain) {
      const declared = this.hi * TWO_32 + this.lo;
      this.fail('truncated', `${describe(msg, field)} declares ${declared} bytes but ${Math.max(0, remain)} remain`);
    }
    return this.pos + this.lo;
  }

  bytes(end: number, msg: string, field: number): Uint8Array {
    const e = this.lenEnd(end, msg, field);
    const out = this.buf.subarray(this.pos, e);
    this.pos = e;
    return out;
  }

  string(end: number, msg: string, field: number): string {
    const e = this.lenEnd(end, msg, field);
    const p = this.pos;
    this.pos = e;
    return decodeUtf8(this.buf, p, e);
  }

  /** A length-delimited sub-message kept as a byte range, decoded on `get()`. */
  lazy<T>(end: number, msg: string, field: number, decode: (r: Reader, end: number) => T): Lazy<T> {
    const e = this.lenEnd(end, msg, field);
    const l = new WireLazy(this.buf, this.pos, e - this.pos, this.file, this.depth, decode);
    this.pos = e;
    return l;
  }

  /**
   * A sub-message kept as a byte range, but walked now by `validate` (the decoder's checks, nothing stored):
   * malformed bytes throw here, as an eager decode would, and `get()` cannot fail later.
   */
  lazyChecked<T>(end: number, msg: string, field: number, decode: (r: Reader, end: number) => T, validate: (r: Reader, end: number) => void): Lazy<T> {
    const e = this.lenEnd(end, msg, field);
    const start = this.pos;
    validate(this, e);
    return new WireLazy(this.buf, start, e - start, this.file, this.depth, decode);
  }

  /** A bytes field kept as a byte range (no copy, no view made until `get()`). */
  lazyBytes(end: number, msg: string, field: number): Lazy<Uint8Array> {
    return this.lazy(end, msg, field, readRest);
  }

  /** After a packed repeated field: its last element must end exactly at the declared length. */
  endPacked(end: number, msg: string, field: number): void {
    if (this.pos !== end) {
      this.fail('truncated', `packed ${describe(msg, field)} has an element running ${this.pos - end} bytes past its declared length`);
    }
  }

  /** Skips a field of wire type `tag & 7` whose tag was just read. */
  skip(tag: number, end: number, msg: string): void {
    const field = tag >>> 3;
    switch (tag & 7) {
      case WIRE_VARINT:
        this.varint64(msg, field);
        return;
      case WIRE_FIXED64:
        this.need(8, msg, field);
        return;
      case WIRE_LEN:
        this.pos = this.lenEnd(end, msg, field);
        return;
      case WIRE_FIXED32:
        this.need(4, msg, field);
        return;
      case WIRE_START_GROUP:
        this.skipGroup(field, end, msg);
        return;
      default:
        this.fail('bad-wire-type', `unexpected end-group tag for field ${field} in ${msg} at byte ${this.pos}`);
    }
  }

  private skipGroup(field: number, end: number, msg: string): void {
    this.enter(msg);
    while (this.pos < end) {
      const t = this.tag(msg);
      if ((t & 7) === WIRE_END_GROUP) {
        if (t >>> 3 !== field) this.fail('bad-wire-type', `group ${field} of ${msg} closed by end-group ${t >>> 3}`);
        this.depth--;
        return;
      }
      this.skip(t, end, msg);
    }
    this.fail('truncated', `group ${field} of ${msg} is not closed before byte ${end}`);
  }

  /** A known field arrived with a wire type its declaration does not allow. */
  wrongType(tag: number, msg: string, expected: string): never {
    return this.fail(
      'bad-wire-type',
      `field ${tag >>> 3} of ${msg} has wire type ${WIRE_NAMES[tag & 7]}, expected ${expected} (byte ${this.pos})`,
    );
  }
}

function readRest(r: Reader, end: number): Uint8Array {
  const out = r.buf.subarray(r.pos, end);
  r.pos = end;
  return out;
}

function describe(msg: string, field: number): string {
  return field > 0 ? `field ${field} of ${msg}` : msg;
}

function unzigzag(lo: number, hi: number): { lo: number; hi: number } {
  const neg = -(lo & 1);
  const nlo = (((lo >>> 1) | (hi << 31)) ^ neg) >>> 0;
  const nhi = ((hi >>> 1) ^ neg) >>> 0;
  return { lo: nlo, hi: nhi };
}

function signedNumber(lo: number, hi: number): number {
  if (hi & 0x80000000) {
    // two's complement negative: -(~x + 1)
    const nlo = (~lo + 1) >>> 0;
    const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
    return -(nhi * TWO_32 + nlo);
  }
  return hi * TWO_32 + lo;
}

/** UTF-8 decode of buf[start, end) (invalid sequences become U+FFFD, never an exception). */
export function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  // A hand-written ASCII loop measured slower than TextDecoder on node 20 (names are then hashed as Map
  // keys, and concatenated strings must be flattened first), so every string goes through TextDecoder.
  return end === start ? '' : utf8.decode(buf.subarray(start, end));
}

/** Decodes a whole buffer as one message of the given type. */
export function decodeMessage<T>(buf: Uint8Array, file: string, decode: (r: Reader, end: number) => T): T {
  const r = new Reader(buf, file);
  return decode(r, buf.length);
}
