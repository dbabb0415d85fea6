// The three HDF5 heaps: local heaps (link names of old-style groups), global heap collections
// (variable-length data) and fractal heaps (dense link and attribute storage).
import { ModelReadError } from '../../io/errors';
import { hex, UNDEFINED_ADDRESS } from './bytes';
import type { Hdf5Context } from './context';
import { lookup3 } from './lookup3';
import { btree2Records } from './btree';

// ---------------------------------------------------------------- local heap

/** Returns the data segment of the local heap at `addr`. */
export async function readLocalHeap(ctx: Hdf5Context, addr: number): Promise<Uint8Array> {
  const what = `local heap at ${hex(addr)}`;
  const head = await ctx.read(addr, 8 + 2 * ctx.lengthSize + ctx.offsetSize, 'local heap');
  const c = ctx.cursor(head, what);
  c.signature('HEAP');
  const version = c.u8();
  if (version !== 0) throw new ModelReadError(ctx.file, 'bad-heap', `${what}: unsupported local heap version ${version}`);
  c.skip(3);
  const size = c.uint(ctx.lengthSize);
  c.addr(ctx.lengthSize); // free list head
  const dataAddr = c.addr(ctx.offsetSize);
  return ctx.read(dataAddr, size, `data segment of ${what}`);
}

// ---------------------------------------------------------------- global heap

/** Object `index` of the global heap collection at `addr`. */
export async function readGlobalHeapObject(ctx: Hdf5Context, addr: number, index: number): Promise<Uint8Array> {
  let coll = ctx.globalHeaps.get(addr);
  if (!coll) {
    coll = loadGlobalHeap(ctx, addr);
    ctx.globalHeaps.set(addr, coll);
  }
  const obj = (await coll).get(index);
  if (!obj) throw new ModelReadError(ctx.file, 'bad-heap-id', `global heap collection at ${hex(addr)} has no object ${index}`);
  return obj;
}

async function loadGlobalHeap(ctx: Hdf5Context, addr: number): Promise<Map<number, Uint8Array>> {
  const what = `global heap collection at ${hex(addr)}`;
  const head = await ctx.read(addr, 8 + ctx.lengthSize, 'global heap collection');
  const hc = ctx.cursor(head, what);
  hc.signature('GCOL');
  const version = hc.u8();
  if (version !== 1) throw new ModelReadError(ctx.file, 'bad-heap', `${what}: unsupported version ${version}`);
  hc.skip(3);
  const size = hc.uint(ctx.lengthSize);
  if (size < 8 + ctx.lengthSize) throw new ModelReadError(ctx.file, 'bad-heap', `${what}: collection size ${size} is too small`);
  const buf = await ctx.read(addr, size, 'global heap collection');
  const c = ctx.cursor(buf, what, 8 + ctx.lengthSize);
  const objects = new Map<number, Uint8Array>();
  while (c.remaining >= 8 + ctx.lengthSize) {
    const index = c.u16();
    c.skip(2 + 4); // reference count, reserved
    const n = c.uint(ctx.lengthSize);
    if (index === 0) break; // free space: the rest of the collection
    const data = c.bytes(n);
    objects.set(index, data);
    c.skip(Math.min((8 - (n % 8)) % 8, c.remaining));
  }
  return objects;
}

// ---------------------------------------------------------------- fractal heap

interface DirectBlock {
  readonly heapOffset: number;
  readonly size: number;
  readonly address: number;
}

/** The fields of a fractal heap header this reader uses. */
interface FractalHeapHeader {
  readonly address: number;
  readonly heapIdLength: number;
  readonly maxManagedObjectSize: number;
  readonly tableWidth: number;
  readonly startBlockSize: number;
  readonly maxDirectBlockSize: number;
  /** log2 of the heap's address space. */
  readonly maxHeapSizeBits: number;
  readonly rootAddress: number;
  /** 0 when the root is a direct block. */
  readonly rootRows: number;
  readonly checksummedDirectBlocks: boolean;
  readonly filtered: boolean;
  readonly hugeBtreeAddress: number;
}

export class FractalHeap implements FractalHeapHeader {
  private blocks: DirectBlock[] | null = null;
  readonly address: number;
  readonly heapIdLength: number;
  readonly maxManagedObjectSize: number;
  readonly tableWidth: number;
  readonly startBlockSize: number;
  readonly maxDirectBlockSize: number;
  readonly maxHeapSizeBits: number;
  readonly rootAddress: number;
  readonly rootRows: number;
  readonly checksummedDirectBlocks: boolean;
  readonly filtered: boolean;
  readonly hugeBtreeAddress: number;

  private constructor(
    private readonly ctx: Hdf5Context,
    h: FractalHeapHeader,
  ) {
    this.address = h.address;
    this.heapIdLength = h.heapIdLength;
    this.maxManagedObjectSize = h.maxManagedObjectSize;
    this.tableWidth = h.tableWidth;
    this.startBlockSize = h.startBlockSize;
    this.maxDirectBlockSize = h.maxDirectBlockSize;
    this.maxHeapSizeBits = h.maxHeapSizeBits;
    this.rootAddress = h.rootAddress;
    this.rootRows = h.rootRows;
    this.checksummedDirectBlocks = h.checksummedDirectBlocks;
    this.filtered = h.filtered;
    this.hugeBtreeAddress = h.hugeBtreeAddress;
  }

  static async open(ctx: Hdf5Context, addr: number): Promise<FractalHeap> {
    const what = `fractal heap header at ${hex(addr)}`;
    const L = ctx.lengthSize;
    const O = ctx.offsetSize;
    const fixed = 4 + 1 + 2 + 2 + 1 + 4 + L + O + L + O + 8 * L + 2 + L + L + 2 + 2 + O + 2;
    const head = await ctx.readUpTo(addr, fixed + L + 4 + 4 + 65536, 'fractal heap header');
    const c = ctx.cursor(head, what);
    c.signature('FRHP');
    const version = c.u8();
    if (version !== 0) throw new ModelReadError(ctx.file, 'bad-heap', `${what}: unsupported version ${version}`);
    const heapIdLength = c.u16();
    const filterLen = c.u16();
    const flags = c.u8();
    const maxManaged = c.u32();
    c.uint(L); // next huge id
    const hugeBtree = c.addr(O);
    c.uint(L); // free space
    c.addr(O); // free space manager
    c.skip(8 * L - 2 * L); // managed space, allocated, iterator offset, managed objects, huge size, huge count
    c.skip(2 * L); // tiny size, tiny count
    const tableWidth = c.u16();
    const startBlockSize = c.uint(L);
    const maxDirectBlockSize = c.uint(L);
    const maxHeapSizeBits = c.u16();
    c.u16(); // starting rows
    const rootAddress = c.addr(O);
    const rootRows = c.u16();
    if (filterLen > 0) {
      c.uint(L);
      c.u32();
      c.skip(filterLen);
    }
    const end = c.pos;
    ctx.verifyChecksum(head, 0, end, what);
    const pow2 = (v: number): boolean => v > 0 && Number.isSafeInteger(v) && Number.isInteger(Math.log2(v));
    if (!pow2(tableWidth) || !pow2(startBlockSize) || !pow2(maxDirectBlockSize) || maxDirectBlockSize < startBlockSize || maxHeapSizeBits > 64 || maxHeapSizeBits < 1) {
      throw new ModelReadError(
        ctx.file,
        'bad-heap',
        `${what}: invalid doubling table (width ${tableWidth}, start block ${startBlockSize}, max direct block ${maxDirectBlockSize}, heap bits ${maxHeapSizeBits})`,
      );
    }
    return new FractalHeap(ctx, {
      address: addr,
      heapIdLength,
      maxManagedObjectSize: maxManaged,
      tableWidth,
      startBlockSize,
      maxDirectBlockSize,
      maxHeapSizeBits,
      rootAddress,
      rootRows,
      checksummedDirectBlocks: (flags & 2) !== 0,
      filtered: filterLen > 0,
      hugeBtreeAddress: hugeBtree,
    });
  }

  /** The object a heap ID designates. */
  async get(id: Uint8Array): Promise<Uint8Array> {
    const ctx = this.ctx;
    const what = `fractal heap at ${hex(this.address)}`;
    if (id.length < 1) throw new ModelReadError(ctx.file, 'bad-heap-id', `${what}: empty heap ID`);
    const type = (id[0]! >> 4) & 3;
    if (type === 2) {
      // Tiny: the data sits in the ID itself.
      const extended = this.heapIdLength > 18;
      const len = extended ? (((id[0]! & 0x0f) << 8) | id[1]!) + 1 : (id[0]! & 0x0f) + 1;
      const from = extended ? 2 : 1;
      if (from + len > id.length) throw new ModelReadError(ctx.file, 'bad-heap-id', `${what}: tiny object of ${len} bytes does not fit its ${id.length}-byte ID`);
      return id.subarray(from, from + len);
    }
    if (type === 1) return this.getHuge(id, what);
    if (type !== 0) throw new ModelReadError(ctx.file, 'bad-heap-id', `${what}: unknown heap ID type ${type}`);
    const offBytes = Math.ceil(this.maxHeapSizeBits / 8);
    const lenBytes = byteLen(Math.min(this.maxDirectBlockSize, this.maxManagedObjectSize));
    const c = ctx.cursor(id, what, 1);
    const offset = c.uint(offBytes);
    const length = c.uint(lenBytes);
    const blocks = await this.directBlocks();
    for (const b of blocks) {
      if (offset >= b.heapOffset && offset < b.heapOffset + b.size) {
        const within = offset - b.heapOffset;
        if (length > b.size - within) {
          throw new ModelReadError(ctx.file, 'bad-heap-id', `${what}: object of ${length} bytes at heap offset ${offset} overruns its direct block`);
        }
        return ctx.read(b.address + within, length, `object in ${what}`);
      }
    }
    throw new ModelReadError(ctx.file, 'bad-heap-id', `${what}: no direct block holds heap offset ${offset}`);
  }

  /** Huge objects live outside the heap blocks; the ID holds their place or a key into a v2 B-tree. */
  private async getHuge(id: Uint8Array, what: string): Promise<Uint8Array> {
    const ctx = this.ctx;
    if (this.filtered) throw new ModelReadError(ctx.file, 'unsupported', `${what}: filtered huge objects are not supported`);
    let addr: number;
    let len: number;
    if (this.heapIdLength >= 1 + ctx.offsetSize + ctx.lengthSize) {
      const c = ctx.cursor(id, what, 1);
      addr = c.addr(ctx.offsetSize);
      len = c.uint(ctx.lengthSize);
    } else {
      if (this.hugeBtreeAddress === UNDEFINED_ADDRESS) throw new ModelReadError(ctx.file, 'bad-heap-id', `${what}: huge object ID but the heap has no huge-object index`);
      const key = ctx.cursor(id, what, 1).uint(Math.min(ctx.lengthSize, id.length - 1));
      const found = await this.findHuge(key);
      if (!found) throw new ModelReadError(ctx.file, 'bad-heap-id', `${what}: huge object ${key} is not in the heap's index`);
      ({ addr, len } = found);
    }
    if (len > ctx.limits.maxDataBytes) throw new ModelReadError(ctx.file, 'too-large', `${what}: huge object of ${len} bytes exceeds the limit`);
    return ctx.read(addr, len, `huge object of ${what}`);
  }

  private async findHuge(key: number): Promise<{ addr: number; len: number } | null> {
    const ctx = this.ctx;
    const records = await btree2Records(ctx, this.hugeBtreeAddress, 1);
    for (const r of records) {
      const c = ctx.cursor(r, 'huge object record');
      const addr = c.addr(ctx.offsetSize);
      const len = c.uint(ctx.lengthSize);
      const id = c.uint(ctx.lengthSize);
      if (id === key) return { addr, len };
    }
    return null;
  }

  private rowBlockSize(row: number): number {
    return row === 0 ? this.startBlockSize : this.startBlockSize * 2 ** (row - 1);
  }

  private get maxDirectRows(): number {
    return Math.log2(this.maxDirectBlockSize) - Math.log2(this.startBlockSize) + 2;
  }

  /** Walks the doubling table once and lists every direct block with its place in heap space. */
  private async directBlocks(): Promise<DirectBlock[]> {
    if (this.blocks) return this.blocks;
    const out: DirectBlock[] = [];
    if (this.filtered) throw new ModelReadError(this.ctx.file, 'unsupported', `fractal heap at ${hex(this.address)}: filtered heaps are not supported`);
    if (this.rootAddress !== UNDEFINED_ADDRESS) {
      if (this.rootRows === 0) {
        await this.checkDirectBlock(this.rootAddress, 0, this.startBlockSize);
        out.push({ heapOffset: 0, size: this.startBlockSize, address: this.rootAddress });
      } else {
        await this.walkIndirect(this.rootAddress, this.rootRows, 0, out, new Set(), 0);
      }
    }
    this.blocks = out;
    return out;
  }

  private async checkDirectBlock(addr: number, heapOffset: number, size: number): Promise<void> {
    const ctx = this.ctx;
    const what = `fractal heap direct block at ${hex(addr)}`;
    const offBytes = Math.ceil(this.maxHeapSizeBits / 8);
    if (this.checksummedDirectBlocks) {
      const buf = await ctx.read(addr, size, 'fractal heap direct block');
      this.checkDirectPrefix(buf, what, heapOffset, offBytes);
      const csumAt = 5 + ctx.offsetSize + offBytes;
      // The checksum covers the whole block with the checksum field itself zeroed.
      const copy = buf.slice();
      copy.fill(0, csumAt, csumAt + 4);
      const stored = ctx.cursor(buf, what, csumAt).u32();
      const actual = lookup3(copy);
      if (stored !== actual) throw new ModelReadError(ctx.file, 'checksum-mismatch', `${what}: checksum mismatch`);
    } else {
      const buf = await ctx.read(addr, 5 + ctx.offsetSize + offBytes, 'fractal heap direct block');
      this.checkDirectPrefix(buf, what, heapOffset, offBytes);
    }
  }

  private checkDirectPrefix(buf: Uint8Array, what: string, heapOffset: number, offBytes: number): void {
    const c = this.ctx.cursor(buf, what);
    c.signature('FHDB');
    c.u8();
    const owner = c.addr(this.ctx.offsetSize);
    const off = c.uint(offBytes);
    if (owner !== this.address || off !== heapOffset) {
      throw new ModelReadError(this.ctx.file, 'bad-heap', `${what}: belongs to heap ${hex(owner)} at offset ${off}, expected heap ${hex(this.address)} at offset ${heapOffset}`);
    }
  }

  private async walkIndirect(addr: number, nrows: number, heapOffset: number, out: DirectBlock[], seen: Set<number>, depth: number): Promise<void> {
    const ctx = this.ctx;
    const what = `fractal heap indirect block at ${hex(addr)}`;
    if (depth > 16) throw new ModelReadError(ctx.file, 'too-deep', `${what}: indirect blocks nested deeper than 16`);
    if (seen.has(addr)) throw new ModelReadError(ctx.file, 'cycle', `${what}: visited twice (cyclic heap)`);
    seen.add(addr);
    if (nrows > 64) throw new ModelReadError(ctx.file, 'bad-heap', `${what}: ${nrows} rows`);
    const W = this.tableWidth;
    const directRows = Math.min(nrows, this.maxDirectRows);
    const K = directRows * W;
    const N = nrows > this.maxDirectRows ? (nrows - this.maxDirectRows) * W : 0;
    const offBytes = Math.ceil(this.maxHeapSizeBits / 8);
    const size = 4 + 1 + ctx.offsetSize + offBytes + (K + N) * ctx.offsetSize + 4;
    const buf = await ctx.read(addr, size, 'fractal heap indirect block');
    const c = ctx.cursor(buf, what);
    c.signature('FHIB');
    c.u8();
    const owner = c.addr(ctx.offsetSize);
    const off = c.uint(offBytes);
    if (owner !== this.address || off !== heapOffset) {
      throw new ModelReadError(ctx.file, 'bad-heap', `${what}: belongs to heap ${hex(owner)} at offset ${off}, expected heap ${hex(this.address)} at offset ${heapOffset}`);
    }
    ctx.verifyChecksum(buf, 0, size - 4, what);
    let pos = heapOffset;
    for (let row = 0; row < nrows; row++) {
      const blockSize = this.rowBlockSize(row);
      for (let col = 0; col < W; col++) {
        const child = c.addr(ctx.offsetSize);
        if (child !== UNDEFINED_ADDRESS) {
          if (out.length >= ctx.limits.maxNodes) throw new ModelReadError(ctx.file, 'too-large', `${what}: more than ${ctx.limits.maxNodes} blocks`);
          if (row < this.maxDirectRows) {
            await this.checkDirectBlock(child, pos, blockSize);
            out.push({ heapOffset: pos, size: blockSize, address: child });
          } else {
            const childRows = Math.log2(blockSize) - Math.log2(this.startBlockSize * W) + 1;
            await this.walkIndirect(child, childRows, pos, out, seen, depth + 1);
          }
        }
        pos += blockSize;
      }
    }
  }
}

function byteLen(v: number): number {
  let n = 1;
  while (v >= 256 ** n && n < 8) n++;
  return n;
}
