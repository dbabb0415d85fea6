// Version 1 B-trees (old-style group symbol tables and chunk indexes) and version 2 B-trees (dense
// link / attribute name indexes, huge fractal heap objects). Every traversal tracks visited nodes, the
// depth it descends and how many nodes it reads, so a corrupted or cyclic tree ends in a ModelReadError.
import { ModelReadError } from '../../io/errors';
import { bytesNeeded, hex, UNDEFINED_ADDRESS } from './bytes';
import type { Hdf5Context } from './context';

const MAX_BTREE_DEPTH = 64;

// ---------------------------------------------------------------- v1

interface V1Node {
  readonly level: number;
  readonly keys: Uint8Array[];
  readonly children: number[];
}

async function readV1Node(ctx: Hdf5Context, addr: number, type: number, keySize: number): Promise<V1Node> {
  const what = `B-tree node at ${hex(addr)}`;
  const O = ctx.offsetSize;
  const head = await ctx.read(addr, 8 + 2 * O, 'B-tree node');
  const c = ctx.cursor(head, what);
  c.signature('TREE');
  const nodeType = c.u8();
  const level = c.u8();
  const used = c.u16();
  if (nodeType !== type) throw new ModelReadError(ctx.file, 'bad-btree', `${what}: node type ${nodeType}, expected ${type}`);
  const body = await ctx.read(addr + 8 + 2 * O, used * (keySize + O) + keySize, 'B-tree node entries');
  const bc = ctx.cursor(body, what);
  const keys: Uint8Array[] = [];
  const children: number[] = [];
  for (let i = 0; i < used; i++) {
    keys.push(bc.bytes(keySize));
    children.push(bc.addr(O));
  }
  keys.push(bc.bytes(keySize));
  return { level, keys, children };
}

/** Walks a v1 B-tree and returns every (key-before, child) pair of its leaf level. */
async function walkV1(ctx: Hdf5Context, root: number, type: number, keySize: number): Promise<{ key: Uint8Array; child: number }[]> {
  const out: { key: Uint8Array; child: number }[] = [];
  const seen = new Set<number>();
  let nodes = 0;
  const visit = async (addr: number, expectedLevel: number | null, depth: number): Promise<void> => {
    if (depth > MAX_BTREE_DEPTH) throw new ModelReadError(ctx.file, 'too-deep', `B-tree at ${hex(root)}: deeper than ${MAX_BTREE_DEPTH} levels`);
    if (seen.has(addr)) throw new ModelReadError(ctx.file, 'cycle', `B-tree at ${hex(root)}: node ${hex(addr)} is reached twice (cyclic tree)`);
    seen.add(addr);
    if (++nodes > ctx.limits.maxNodes) throw new ModelReadError(ctx.file, 'too-large', `B-tree at ${hex(root)}: more than ${ctx.limits.maxNodes} nodes`);
    const node = await readV1Node(ctx, addr, type, keySize);
    if (expectedLevel !== null && node.level !== expectedLevel) {
      throw new ModelReadError(ctx.file, 'bad-btree', `B-tree node at ${hex(addr)}: level ${node.level}, expected ${expectedLevel}`);
    }
    for (let i = 0; i < node.children.length; i++) {
      const child = node.children[i]!;
      if (child === UNDEFINED_ADDRESS) throw new ModelReadError(ctx.file, 'bad-btree', `B-tree node at ${hex(addr)}: child ${i} has an undefined address`);
      if (node.level === 0) out.push({ key: node.keys[i]!, child });
      else await visit(child, node.level - 1, depth + 1);
    }
  };
  await visit(root, null, 0);
  return out;
}

/** Addresses of the symbol table nodes (SNOD) of an old-style group. */
export async function groupSymbolNodes(ctx: Hdf5Context, root: number): Promise<number[]> {
  return (await walkV1(ctx, root, 0, ctx.lengthSize)).map((e) => e.child);
}

export interface ChunkRef {
  /** Element offsets of the chunk's first element, one per dataset dimension. */
  readonly offsets: number[];
  readonly size: number;
  readonly filterMask: number;
  readonly address: number;
}

/** Every chunk of a dataset indexed by a v1 B-tree (`rank` = dataset rank). */
export async function chunkRefs(ctx: Hdf5Context, root: number, rank: number): Promise<ChunkRef[]> {
  const keySize = 4 + 4 + 8 * (rank + 1);
  const entries = await walkV1(ctx, root, 1, keySize);
  return entries.map(({ key, child }) => {
    const c = ctx.cursor(key, `chunk key in B-tree at ${hex(root)}`);
    const size = c.u32();
    const filterMask = c.u32();
    const offsets: number[] = [];
    for (let d = 0; d < rank; d++) offsets.push(c.uint(8));
    return { offsets, size, filterMask, address: child };
  });
}

// ---------------------------------------------------------------- v2

/** All records (raw bytes) of the v2 B-tree whose header is at `addr`; `type` is checked. */
export async function btree2Records(ctx: Hdf5Context, addr: number, type: number): Promise<Uint8Array[]> {
  const O = ctx.offsetSize;
  const L = ctx.lengthSize;
  const what = `v2 B-tree header at ${hex(addr)}`;
  const headSize = 4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + O + 2 + L;
  const head = await ctx.read(addr, headSize + 4, 'v2 B-tree header');
  const c = ctx.cursor(head, what);
  c.signature('BTHD');
  const version = c.u8();
  if (version !== 0) throw new ModelReadError(ctx.file, 'bad-btree', `${what}: unsupported version ${version}`);
  const treeType = c.u8();
  if (treeType !== type) throw new ModelReadError(ctx.file, 'bad-btree', `${what}: tree type ${treeType}, expected ${type}`);
  const nodeSize = c.u32();
  const recordSize = c.u16();
  const depth = c.u16();
  c.skip(2);
  const rootAddr = c.addr(O);
  const rootRecords = c.u16();
  c.uint(L); // total records
  ctx.verifyChecksum(head, 0, headSize, what);
  if (depth > MAX_BTREE_DEPTH) throw new ModelReadError(ctx.file, 'too-deep', `${what}: depth ${depth}`);
  if (recordSize === 0 || nodeSize < 10 + recordSize) throw new ModelReadError(ctx.file, 'bad-btree', `${what}: node size ${nodeSize} / record size ${recordSize} are inconsistent`);
  if (rootAddr === UNDEFINED_ADDRESS) return [];

  // Field widths, following the spec's derivation from node and record sizes.
  const leafMax = Math.floor((nodeSize - 10) / recordSize);
  const nrecBytes = bytesNeeded(leafMax);
  const cumMax: number[] = [leafMax];
  const cumBytes: number[] = [bytesNeeded(leafMax)];
  for (let d = 1; d <= depth; d++) {
    const ptr = O + nrecBytes + (d > 1 ? cumBytes[d - 1]! : 0);
    const max = Math.floor((nodeSize - 10 - ptr) / (recordSize + ptr));
    if (max < 1) throw new ModelReadError(ctx.file, 'bad-btree', `${what}: node size ${nodeSize} cannot hold internal records`);
    const cum = (max + 1) * cumMax[d - 1]! + max;
    cumMax.push(cum);
    cumBytes.push(bytesNeeded(Math.min(cum, Number.MAX_SAFE_INTEGER)));
  }

  const out: Uint8Array[] = [];
  const seen = new Set<number>();
  let nodes = 0;
  const visit = async (nodeAddr: number, nrec: number, level: number): Promise<void> => {
    const nwhat = `v2 B-tree node at ${hex(nodeAddr)}`;
    if (seen.has(nodeAddr)) throw new ModelReadError(ctx.file, 'cycle', `${nwhat}: reached twice (cyclic tree)`);
    seen.add(nodeAddr);
    if (++nodes > ctx.limits.maxNodes) throw new ModelReadError(ctx.file, 'too-large', `${what}: more than ${ctx.limits.maxNodes} nodes`);
    const buf = await ctx.read(nodeAddr, nodeSize, 'v2 B-tree node');
    const nc = ctx.cursor(buf, nwhat);
    nc.signature(level === 0 ? 'BTLF' : 'BTIN');
    nc.u8();
    const t = nc.u8();
    if (t !== type) throw new ModelReadError(ctx.file, 'bad-btree', `${nwhat}: type ${t}, expected ${type}`);
    const records: Uint8Array[] = [];
    for (let i = 0; i < nrec; i++) records.push(nc.bytes(recordSize));
    const children: { addr: number; nrec: number }[] = [];
    if (level > 0) {
      for (let i = 0; i <= nrec; i++) {
        const a = nc.addr(O);
        const n = nc.uint(nrecBytes);
        if (level > 1) nc.uint(cumBytes[level - 1]!);
        children.push({ addr: a, nrec: n });
      }
    }
    ctx.verifyChecksum(buf, 0, nc.pos, nwhat);
    if (level === 0) {
      out.push(...records);
      return;
    }
    for (let i = 0; i < children.length; i++) {
      const ch = children[i]!;
      if (ch.addr === UNDEFINED_ADDRESS) throw new ModelReadError(ctx.file, 'bad-btree', `${nwhat}: child ${i} has an undefined address`);
      await visit(ch.addr, ch.nrec, level - 1);
      if (i < records.length) out.push(records[i]!);
    }
  };
  await visit(rootAddr, rootRecords, depth);
  return out;
}
