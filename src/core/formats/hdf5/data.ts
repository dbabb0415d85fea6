// Reads a dataset's raw bytes from its layout: compact, contiguous, or chunked (v1 B-tree, single-chunk
// and implicit indexes), undoing the deflate and shuffle filters. Sizes are checked before allocating.
import { inflateSync } from 'node:zlib';
import { ModelReadError } from '../../io/errors';
import { hex, UNDEFINED_ADDRESS } from './bytes';
import { chunkRefs, type ChunkRef } from './btree';
import type { Hdf5Context } from './context';
import type { Filter, Layout } from './messages';

const FILTER_NAMES: Record<number, string> = {
  1: 'deflate',
  2: 'shuffle',
  3: 'fletcher32',
  4: 'szip',
  5: 'nbit',
  6: 'scaleoffset',
  307: 'bzip2',
  32000: 'lzf',
  32001: 'blosc',
  32004: 'lz4',
  32015: 'zstd',
};

export interface DatasetStorage {
  readonly shape: readonly number[];
  /** Maximum dimensions (-1 unlimited): the fixed-array index is laid out over them. */
  readonly maxShape: readonly number[];
  readonly elementSize: number;
  readonly layout: Layout;
  readonly filters: readonly Filter[];
  readonly fill: Uint8Array | null;
}

export async function readDatasetBytes(ctx: Hdf5Context, st: DatasetStorage, what: string): Promise<Uint8Array> {
  let count = 1;
  for (const d of st.shape) count *= d;
  const total = count * st.elementSize;
  if (!Number.isSafeInteger(total) || total > ctx.limits.maxDataBytes || count > ctx.limits.maxDataBytes) {
    throw new ModelReadError(ctx.file, 'too-large', `${what}: ${total} bytes of data exceed the limit of ${ctx.limits.maxDataBytes}`);
  }
  for (const f of st.filters) {
    if (f.id !== 1 && f.id !== 2) {
      if (f.optional) continue;
      throw new ModelReadError(ctx.file, 'unsupported-filter', `${what}: unsupported filter ${f.id}${FILTER_NAMES[f.id] ? ` (${FILTER_NAMES[f.id]})` : f.name ? ` (${f.name})` : ''}`);
    }
  }
  const L = st.layout;
  switch (L.kind) {
    case 'compact':
      if (L.data.length < total) throw new ModelReadError(ctx.file, 'truncated', `${what}: compact data holds ${L.data.length} bytes, ${total} expected`);
      return L.data.subarray(0, total);
    case 'contiguous':
      if (L.address === UNDEFINED_ADDRESS) return filled(total, st);
      if (L.size < total) throw new ModelReadError(ctx.file, 'bad-layout', `${what}: contiguous storage of ${L.size} bytes is smaller than the ${total} bytes of data`);
      return ctx.read(L.address, total, what);
    case 'chunked':
      return readChunked(ctx, st, L, total, what);
    case 'virtual':
      throw new ModelReadError(ctx.file, 'unsupported', `${what}: virtual datasets are not supported`);
  }
}

function filled(total: number, st: DatasetStorage): Uint8Array {
  const out = new Uint8Array(total);
  const f = st.fill;
  if (f && f.length === st.elementSize && f.some((b) => b !== 0)) {
    for (let i = 0; i < total; i += f.length) out.set(f, i);
  }
  return out;
}

async function readChunked(ctx: Hdf5Context, st: DatasetStorage, L: Extract<Layout, { kind: 'chunked' }>, total: number, what: string): Promise<Uint8Array> {
  const rank = st.shape.length;
  if (L.chunkDims.length !== rank) {
    throw new ModelReadError(ctx.file, 'bad-layout', `${what}: chunk rank ${L.chunkDims.length} differs from dataset rank ${rank}`);
  }
  let chunkElems = 1;
  for (const d of L.chunkDims) {
    if (d < 1) throw new ModelReadError(ctx.file, 'bad-layout', `${what}: chunk dimension ${d} is invalid`);
    chunkElems *= d;
  }
  const chunkBytes = chunkElems * st.elementSize;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes > ctx.limits.maxDataBytes) {
    throw new ModelReadError(ctx.file, 'too-large', `${what}: chunk of ${chunkBytes} bytes exceeds the limit`);
  }
  const out = filled(total, st);
  if (L.address === UNDEFINED_ADDRESS || total === 0) return out;
  let chunks: ChunkRef[];
  switch (L.index) {
    case 'btree1':
      chunks = await chunkRefs(ctx, L.address, rank);
      break;
    case 'single':
      chunks = [{ offsets: new Array<number>(rank).fill(0), size: L.filteredSize ?? chunkBytes, filterMask: L.filterMask ?? 0, address: L.address }];
      break;
    case 'implicit': {
      chunks = [];
      const grid = st.shape.map((d, i) => Math.ceil(d / L.chunkDims[i]!));
      let n = 1;
      for (const g of grid) n *= g;
      if (n > ctx.limits.maxNodes) throw new ModelReadError(ctx.file, 'too-large', `${what}: ${n} chunks`);
      for (let k = 0; k < n; k++) {
        const offsets: number[] = new Array<number>(rank);
        let r = k;
        for (let d = rank - 1; d >= 0; d--) {
          offsets[d] = (r % grid[d]!) * L.chunkDims[d]!;
          r = Math.floor(r / grid[d]!);
        }
        chunks.push({ offsets, size: chunkBytes, filterMask: 0, address: L.address + k * chunkBytes });
      }
      break;
    }
    case 'fixed-array':
      chunks = await fixedArrayChunks(ctx, L.address, st, L.chunkDims, chunkBytes, what);
      break;
    default:
      throw new ModelReadError(ctx.file, 'unsupported', `${what}: chunk index type "${L.index}" is not supported`);
  }
  for (const ch of chunks) {
    if (ch.offsets.some((o, d) => o >= st.shape[d]! || o % L.chunkDims[d]! !== 0)) {
      if (ch.offsets.some((o, d) => o % L.chunkDims[d]! !== 0)) {
        throw new ModelReadError(ctx.file, 'bad-layout', `${what}: chunk at ${hex(ch.address)} has misaligned offsets [${ch.offsets.join(', ')}]`);
      }
      continue; // beyond the current extent (dataset shrunk): ignored, as the library does
    }
    if (ch.size > ctx.limits.maxDataBytes) {
      throw new ModelReadError(ctx.file, 'too-large', `${what}: chunk at ${hex(ch.address)} declares ${ch.size} stored bytes`);
    }
    const stored = await ctx.read(ch.address, ch.size, `chunk of ${what}`);
    const data = unfilter(ctx, stored, st.filters, ch.filterMask, chunkBytes, st.elementSize, `chunk at ${hex(ch.address)} of ${what}`);
    if (data.length < chunkBytes) {
      throw new ModelReadError(ctx.file, 'truncated', `${what}: chunk at ${hex(ch.address)} decodes to ${data.length} bytes, ${chunkBytes} expected`);
    }
    copyChunk(out, data, st.shape, L.chunkDims, ch.offsets, st.elementSize);
  }
  return out;
}

/** Chunks listed by a fixed-array index (spec VII.C): header FAHD, data block FADB, optional pages. */
async function fixedArrayChunks(
  ctx: Hdf5Context,
  addr: number,
  st: DatasetStorage,
  chunkDims: readonly number[],
  chunkBytes: number,
  what: string,
): Promise<ChunkRef[]> {
  const O = ctx.offsetSize;
  const L = ctx.lengthSize;
  const hwhat = `fixed array header at ${hex(addr)} of ${what}`;
  const headLen = 4 + 1 + 1 + 1 + 1 + L + O;
  const head = await ctx.read(addr, headLen + 4, 'fixed array header');
  const c = ctx.cursor(head, hwhat);
  c.signature('FAHD');
  c.u8();
  const client = c.u8();
  const entrySize = c.u8();
  const pageBits = c.u8();
  const maxEntries = c.uint(L);
  const blockAddr = c.addr(O);
  ctx.verifyChecksum(head, 0, headLen, hwhat);
  const filtered = client === 1;
  if (client > 1) throw new ModelReadError(ctx.file, 'bad-layout', `${hwhat}: unknown client ${client}`);
  const sizeLen = filtered ? entrySize - O - 4 : 0;
  if ((filtered && (sizeLen < 1 || sizeLen > 8)) || (!filtered && entrySize !== O) || pageBits > 32) {
    throw new ModelReadError(ctx.file, 'bad-layout', `${hwhat}: entry size ${entrySize} / page bits ${pageBits} are invalid`);
  }
  // Chunk i covers the i-th cell of the chunk grid laid over the maximum dimensions, in C order.
  const dims = st.maxShape.map((m, d) => (m < 0 ? st.shape[d]! : m));
  const grid = dims.map((d, i) => Math.ceil(d / chunkDims[i]!));
  let cells = 1;
  for (const g of grid) cells *= g;
  if (maxEntries < cells || maxEntries > ctx.limits.maxNodes) {
    throw new ModelReadError(ctx.file, 'bad-layout', `${hwhat}: ${maxEntries} entries for ${cells} chunks`);
  }
  if (blockAddr === UNDEFINED_ADDRESS) return [];
  const pageSize = 2 ** pageBits;
  const paged = maxEntries > pageSize;
  const npages = paged ? Math.ceil(maxEntries / pageSize) : 0;
  const bitmapLen = paged ? Math.ceil(npages / 8) : 0;
  const prefix = 4 + 1 + 1 + O;
  const blockLen = prefix + bitmapLen + (paged ? 0 : maxEntries * entrySize);
  const bwhat = `fixed array data block at ${hex(blockAddr)} of ${what}`;
  const block = await ctx.read(blockAddr, blockLen + 4, 'fixed array data block');
  const bc = ctx.cursor(block, bwhat);
  bc.signature('FADB');
  bc.u8();
  bc.u8();
  if (bc.addr(O) !== addr) throw new ModelReadError(ctx.file, 'bad-layout', `${bwhat}: does not point back to its header`);
  ctx.verifyChecksum(block, 0, blockLen, bwhat);
  const entries: { buf: Uint8Array; at: number }[] = [];
  if (!paged) {
    for (let i = 0; i < maxEntries; i++) entries.push({ buf: block, at: prefix + i * entrySize });
  } else {
    let pos = blockAddr + blockLen + 4;
    for (let p = 0; p < npages; p++) {
      const n = Math.min(pageSize, maxEntries - p * pageSize);
      const len = n * entrySize;
      const initialized = (block[prefix + (p >> 3)]! & (0x80 >> (p & 7))) !== 0;
      if (initialized) {
        const pwhat = `fixed array page ${p} of ${what}`;
        const page = await ctx.read(pos, len + 4, 'fixed array page');
        ctx.verifyChecksum(page, 0, len, pwhat);
        for (let i = 0; i < n; i++) entries.push({ buf: page, at: i * entrySize });
      } else {
        for (let i = 0; i < n; i++) entries.push({ buf: new Uint8Array(entrySize).fill(0xff), at: 0 });
      }
      pos += len + 4;
    }
  }
  const out: ChunkRef[] = [];
  const rank = dims.length;
  for (let k = 0; k < cells; k++) {
    const e = entries[k]!;
    const ec = ctx.cursor(e.buf, bwhat, e.at, e.at + entrySize);
    const address = ec.addr(O);
    const size = filtered ? ec.uint(sizeLen) : chunkBytes;
    const filterMask = filtered ? ec.u32() : 0;
    if (address === UNDEFINED_ADDRESS) continue;
    const offsets = new Array<number>(rank);
    let r = k;
    for (let d = rank - 1; d >= 0; d--) {
      offsets[d] = (r % grid[d]!) * chunkDims[d]!;
      r = Math.floor(r / grid[d]!);
    }
    out.push({ offsets, size, filterMask, address });
  }
  return out;
}

function unfilter(ctx: Hdf5Context, stored: Uint8Array, filters: readonly Filter[], mask: number, expected: number, elementSize: number, what: string): Uint8Array {
  let data = stored;
  for (let i = filters.length - 1; i >= 0; i--) {
    if (mask & (1 << i)) continue;
    const f = filters[i]!;
    if (f.id === 1) {
      try {
        const r = inflateSync(data, { maxOutputLength: Math.max(expected, 1) });
        data = new Uint8Array(r.buffer, r.byteOffset, r.byteLength);
      } catch (e) {
        throw new ModelReadError(ctx.file, 'bad-deflate', `${what}: deflate stream is corrupted (${(e as Error).message})`, { cause: e });
      }
    } else if (f.id === 2) {
      data = unshuffle(data, f.clientData[0] ?? elementSize);
    }
  }
  return data;
}

function unshuffle(src: Uint8Array, size: number): Uint8Array {
  if (size <= 1 || size > src.length) return src;
  const n = Math.floor(src.length / size);
  const out = new Uint8Array(src.length);
  for (let b = 0; b < size; b++) {
    const plane = b * n;
    for (let i = 0; i < n; i++) out[i * size + b] = src[plane + i]!;
  }
  // Bytes past the last whole element are copied through unchanged.
  out.set(src.subarray(n * size), n * size);
  return out;
}

/** Copies the part of a chunk that lies inside the dataset into the C-ordered output. */
function copyChunk(out: Uint8Array, chunk: Uint8Array, shape: readonly number[], cdims: readonly number[], offsets: readonly number[], esize: number): void {
  const rank = shape.length;
  if (rank === 0) {
    out.set(chunk.subarray(0, esize), 0);
    return;
  }
  const extent = offsets.map((o, d) => Math.min(cdims[d]!, shape[d]! - o));
  if (extent.some((e) => e <= 0)) return;
  // Strides in elements for the output and the chunk.
  const outStride = new Array<number>(rank);
  const chStride = new Array<number>(rank);
  outStride[rank - 1] = 1;
  chStride[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) {
    outStride[d] = outStride[d + 1]! * shape[d + 1]!;
    chStride[d] = chStride[d + 1]! * cdims[d + 1]!;
  }
  const runBytes = extent[rank - 1]! * esize;
  const idx = new Array<number>(rank).fill(0);
  for (;;) {
    let o = 0;
    let c = 0;
    for (let d = 0; d < rank; d++) {
      o += (offsets[d]! + idx[d]!) * outStride[d]!;
      c += idx[d]! * chStride[d]!;
    }
    out.set(chunk.subarray(c * esize, c * esize + runBytes), o * esize);
    let d = rank - 2;
    while (d >= 0) {
      idx[d]!++;
      if (idx[d]! < extent[d]!) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
}
