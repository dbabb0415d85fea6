// Public face of the HDF5 reader: a lazy, read-only view of groups, datasets and attributes over a
// FileSource. Opening reads only the superblock; a group's children, an object's attributes and a
// dataset's values are read when asked for.
//
// Throws only ModelReadError (file = the display name given to open()).
import type { FileSource } from '../../io/file-source';
import { LIMITS, ModelReadError } from '../../io/errors';
import type { TensorData } from '../../model/ir';
import { ByteCursor, cString, hex, UNDEFINED_ADDRESS } from './bytes';
import { btree2Records, groupSymbolNodes } from './btree';
import { DEFAULT_HDF5_LIMITS, Hdf5Context, type Hdf5Limits } from './context';
import { readDatasetBytes } from './data';
import { FractalHeap, readLocalHeap } from './heaps';
import { Hdf5Io } from './io';
import { lookup3 } from './lookup3';
import {
  dtypeName,
  elementCountOf,
  MSG,
  parseAttribute,
  parseAttributeInfo,
  parseDatatype,
  parseDataspace,
  parseFillValue,
  parseFilterPipeline,
  parseLayout,
  parseLink,
  parseLinkInfo,
  parseSymbolTable,
  type Datatype,
  type Dataspace,
  type Filter,
  type Layout,
  type Link,
  type RawAttribute,
} from './messages';
import { findMessage, readObjectHeader, resolveShared, type ObjectHeader } from './object-header';
import { decodeElements, toTensor, type Hdf5Value } from './values';

export type { Hdf5Value } from './values';
export type { Datatype } from './messages';
export type { Hdf5Limits } from './context';

export const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a] as const;

export interface Hdf5OpenOptions {
  /** Name used in error messages (default: `rel`). */
  readonly displayName?: string;
  readonly limits?: Partial<Hdf5Limits>;
}

/** True when `bytes` (the first 8 bytes of a file, or of a candidate superblock position) is the HDF5 signature. */
export function hasHdf5Signature(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && HDF5_SIGNATURE.every((b, i) => bytes[i] === b);
}

export class Hdf5File {
  private constructor(
    private readonly ctx: Hdf5Context,
    readonly superblockVersion: number,
    readonly root: Group,
  ) {}

  /** The file name used in errors. */
  get file(): string {
    return this.ctx.file;
  }

  static async open(src: FileSource, rel: string, options: Hdf5OpenOptions = {}): Promise<Hdf5File> {
    const file = options.displayName ?? rel;
    const st = await src.stat(rel);
    if (!st || st.isDirectory) throw new ModelReadError(file, 'missing-file', 'file not found');
    const io = new Hdf5Io(src, rel, st.size, file);
    const limits = { ...DEFAULT_HDF5_LIMITS, ...options.limits };

    // The superblock sits at 0, 512, 1024, 2048, ... (after an optional user block).
    let at = -1;
    for (let pos = 0; pos + 8 <= st.size; pos = pos === 0 ? 512 : pos * 2) {
      const sig = await io.read(pos, 8, 'superblock signature');
      if (hasHdf5Signature(sig)) {
        at = pos;
        break;
      }
    }
    if (at < 0) {
      throw new ModelReadError(file, 'bad-signature', st.size < 8 ? `file is ${st.size} bytes, too short for HDF5` : 'not an HDF5 file: no HDF5 signature at offset 0, 512, 1024, ...');
    }
    const head = await io.readUpTo(at, 8 + 16 + 4 * 8 + 8 + 8 * 2 + 40, 'superblock');
    const c = new ByteCursor(head, file, `superblock at ${hex(at)}`, 8);
    const version = c.u8();
    let offsetSize: number;
    let lengthSize: number;
    let groupLeafK = 4;
    let baseAddress: number;
    let eofAddress: number;
    let rootAddress: number;
    if (version === 0 || version === 1) {
      c.skip(3); // free-space, root group symbol table entry and reserved versions
      c.u8(); // shared header message format version
      offsetSize = c.u8();
      lengthSize = c.u8();
      checkSizes(file, offsetSize, lengthSize);
      c.u8();
      groupLeafK = c.u16();
      c.u16(); // group internal node K
      c.u32(); // file consistency flags
      if (version === 1) c.skip(4);
      baseAddress = c.addr(offsetSize);
      c.addr(offsetSize); // free-space info
      eofAddress = c.addr(offsetSize);
      c.addr(offsetSize); // driver info
      c.addr(offsetSize); // root entry: link name offset
      rootAddress = c.addr(offsetSize);
      if (groupLeafK < 1 || groupLeafK > 32768) throw new ModelReadError(file, 'bad-superblock', `group leaf node K ${groupLeafK} is invalid`);
    } else if (version === 2 || version === 3) {
      offsetSize = c.u8();
      lengthSize = c.u8();
      checkSizes(file, offsetSize, lengthSize);
      c.u8(); // file consistency flags
      baseAddress = c.addr(offsetSize);
      c.addr(offsetSize); // superblock extension
      eofAddress = c.addr(offsetSize);
      rootAddress = c.addr(offsetSize);
      const end = c.pos;
      const stored = c.u32();
      const actual = lookup3(head, 0, end);
      if (stored !== actual) {
        throw new ModelReadError(file, 'checksum-mismatch', `superblock checksum mismatch (stored 0x${stored.toString(16).padStart(8, '0')}, computed 0x${actual.toString(16).padStart(8, '0')})`);
      }
    } else {
      throw new ModelReadError(file, 'unsupported', `unsupported superblock version ${version}`);
    }
    // Addresses are relative to the base; with a user block the library takes the superblock position.
    const base = baseAddress === UNDEFINED_ADDRESS || baseAddress !== at ? at : baseAddress;
    // The end-of-file address counts from the start of the file (user block included).
    if (eofAddress !== UNDEFINED_ADDRESS && eofAddress > st.size) {
      throw new ModelReadError(file, 'truncated', `file is truncated: ${st.size} bytes, but the superblock says it ends at ${eofAddress}`);
    }
    if (rootAddress === UNDEFINED_ADDRESS) throw new ModelReadError(file, 'bad-superblock', 'root group address is undefined');
    const ctx = new Hdf5Context(io, file, offsetSize, lengthSize, base, groupLeafK, limits);
    const rootHeader = await readObjectHeader(ctx, rootAddress);
    const root = await makeObject(ctx, rootHeader, '', '/');
    if (!(root instanceof Group)) throw new ModelReadError(file, 'bad-superblock', `root object at ${hex(rootAddress)} is not a group`);
    return new Hdf5File(ctx, version, root);
  }

  /** The object at `path` ('/a/b' or 'a/b'), or undefined when a component does not exist. */
  async get(path: string): Promise<Group | Dataset | undefined> {
    return this.root.get(path);
  }

  /** Every dataset reachable from the root (each object once), with its path. */
  async datasets(): Promise<Dataset[]> {
    const out: Dataset[] = [];
    await this.root.walk((o) => {
      if (o instanceof Dataset) out.push(o);
    });
    return out;
  }
}

function checkSizes(file: string, offsetSize: number, lengthSize: number): void {
  if (![2, 4, 8].includes(offsetSize) || ![2, 4, 8].includes(lengthSize)) {
    throw new ModelReadError(file, 'bad-superblock', `unsupported size of offsets ${offsetSize} / size of lengths ${lengthSize}`);
  }
}

async function makeObject(ctx: Hdf5Context, header: ObjectHeader, name: string, path: string): Promise<Group | Dataset | null> {
  const types = new Set(header.messages.map((m) => m.type));
  if (types.has(MSG.layout)) {
    const what = `dataset "${path}"`;
    const spaceBytes = await findMessage(ctx, header, MSG.dataspace);
    const typeBytes = await findMessage(ctx, header, MSG.datatype);
    const layoutBytes = await findMessage(ctx, header, MSG.layout);
    if (!spaceBytes || !typeBytes || !layoutBytes) {
      throw new ModelReadError(ctx.file, 'bad-object-header', `${what}: dataspace, datatype or layout message missing`);
    }
    const space = parseDataspace(ctx.cursor(spaceBytes, `${what} dataspace`), ctx);
    const type = parseDatatype(ctx.cursor(typeBytes, `${what} datatype`));
    const layout = parseLayout(ctx.cursor(layoutBytes, `${what} layout`), ctx);
    const pipeline = await findMessage(ctx, header, MSG.filterPipeline);
    const filters = pipeline ? parseFilterPipeline(ctx.cursor(pipeline, `${what} filter pipeline`), ctx) : [];
    const fillNew = await findMessage(ctx, header, MSG.fillValue);
    const fillOld = fillNew ? null : await findMessage(ctx, header, MSG.fillValueOld);
    const fill = fillNew
      ? parseFillValue(ctx.cursor(fillNew, `${what} fill value`), false)
      : fillOld
        ? parseFillValue(ctx.cursor(fillOld, `${what} fill value`), true)
        : null;
    return new Dataset(ctx, header, name, path, space, type, layout, filters, fill);
  }
  if (types.has(MSG.symbolTable) || types.has(MSG.linkInfo) || types.has(MSG.link) || types.has(MSG.groupInfo)) {
    return new Group(ctx, header, name, path);
  }
  if (types.has(MSG.datatype) && !types.has(MSG.dataspace)) return null; // a committed datatype
  // A header with none of the group/dataset messages: an empty old-style group is impossible
  // (it has a symbol table), so this is something we do not present.
  return null;
}

abstract class Hdf5Object {
  private attrCache: Promise<Record<string, Hdf5Value>> | null = null;

  constructor(
    protected readonly ctx: Hdf5Context,
    protected readonly header: ObjectHeader,
    /** Link name in the parent ('' for the root). */
    readonly name: string,
    /** Absolute path, '/' for the root. */
    readonly path: string,
  ) {}

  /** Address of the object header (relative to the file's base address): the object's identity. */
  get address(): number {
    return this.header.address;
  }

  /** All attributes, decoded. */
  attrs(): Promise<Record<string, Hdf5Value>> {
    this.attrCache ??= this.loadAttrs();
    return this.attrCache;
  }

  /** Names of the attributes, without decoding their values. */
  async attrNames(): Promise<string[]> {
    return (await this.rawAttributes()).map((a) => a.name);
  }

  /** The attribute messages, compact (in the header) and dense (fractal heap), parsed but not decoded. */
  private async rawAttributes(): Promise<RawAttribute[]> {
    const ctx = this.ctx;
    const what = `attributes of "${this.path}"`;
    const raws: Uint8Array[] = [];
    for (const m of this.header.messages) {
      if (m.type !== MSG.attribute) continue;
      if (m.flags & 0x02) throw new ModelReadError(ctx.file, 'unsupported', `${what}: shared attribute messages are not supported`);
      raws.push(m.data);
    }
    const infoBytes = await findMessage(ctx, this.header, MSG.attributeInfo);
    if (infoBytes) {
      const info = parseAttributeInfo(ctx.cursor(infoBytes, `${what} (attribute info)`), ctx);
      if (info.heapAddress !== UNDEFINED_ADDRESS && info.nameIndexAddress !== UNDEFINED_ADDRESS) {
        const heap = await FractalHeap.open(ctx, info.heapAddress);
        const records = await btree2Records(ctx, info.nameIndexAddress, 8);
        for (const r of records) raws.push(await heap.get(r.subarray(0, 8)));
      }
    }
    return raws.map((bytes) => parseAttribute(ctx.cursor(bytes, what), ctx));
  }

  private async loadAttrs(): Promise<Record<string, Hdf5Value>> {
    const ctx = this.ctx;
    const what = `attributes of "${this.path}"`;
    const out: Record<string, Hdf5Value> = {};
    for (const a of await this.rawAttributes()) {
      let type = a.type;
      if (a.sharedType) {
        const resolved = await resolveShared(ctx, a.sharedType, MSG.datatype, `${what} "${a.name}"`);
        type = parseDatatype(ctx.cursor(resolved, `${what} "${a.name}" datatype`));
      }
      const count = elementCountOf(a.space);
      if (count > ctx.limits.maxDataBytes || count * type.size > ctx.limits.maxDataBytes) {
        throw new ModelReadError(ctx.file, 'too-large', `${what}: attribute "${a.name}" declares ${count} elements`);
      }
      if (a.space.kind === 'null') {
        out[a.name] = null;
        continue;
      }
      const values = await decodeElements(ctx, type, a.data, count, `attribute "${a.name}" of "${this.path}"`);
      out[a.name] = a.space.kind === 'scalar' ? values[0]! : values;
    }
    return out;
  }
}

export class Group extends Hdf5Object {
  readonly kind = 'group' as const;
  private childCache: Promise<Map<string, Group | Dataset>> | null = null;

  /** The links of this group (hard, soft, external), in storage order. */
  async links(): Promise<Link[]> {
    const ctx = this.ctx;
    const what = `group "${this.path}"`;
    const links: Link[] = [];
    const st = await findMessage(ctx, this.header, MSG.symbolTable);
    if (st) {
      const sym = parseSymbolTable(ctx.cursor(st, `${what} symbol table`), ctx);
      const heap = await readLocalHeap(ctx, sym.heapAddress);
      const nodes = await groupSymbolNodes(ctx, sym.btreeAddress);
      const O = ctx.offsetSize;
      const entrySize = 2 * O + 24;
      for (const nodeAddr of nodes) {
        const nwhat = `symbol table node at ${hex(nodeAddr)}`;
        const h = ctx.cursor(await ctx.read(nodeAddr, 8, 'symbol table node'), nwhat);
        h.signature('SNOD');
        const v = h.u8();
        if (v !== 1) throw new ModelReadError(ctx.file, 'bad-group', `${nwhat}: unsupported version ${v}`);
        h.u8();
        const n = h.u16();
        if (n > 2 * ctx.groupLeafK) throw new ModelReadError(ctx.file, 'bad-group', `${nwhat}: ${n} symbols exceed the node capacity ${2 * ctx.groupLeafK}`);
        const body = ctx.cursor(await ctx.read(nodeAddr + 8, n * entrySize, 'symbol table node'), nwhat);
        for (let i = 0; i < n; i++) {
          const nameOff = body.uint(O);
          const addr = body.addr(O);
          const cacheType = body.u32();
          body.skip(4);
          const scratch = body.bytes(16);
          if (nameOff >= heap.length) throw new ModelReadError(ctx.file, 'bad-group', `${nwhat}: link name offset ${nameOff} is outside the ${heap.length}-byte local heap`);
          const name = cString(heap, nameOff);
          if (cacheType === 2) {
            const valueOff = new ByteCursor(scratch, ctx.file, nwhat).u32();
            links.push({ kind: 'soft', name, target: valueOff < heap.length ? cString(heap, valueOff) : '' });
          } else {
            links.push({ kind: 'hard', name, address: addr });
          }
        }
      }
    }
    for (const m of this.header.messages) {
      if (m.type === MSG.link) links.push(parseLink(ctx.cursor(m.data, `${what} link message`), ctx));
    }
    const li = await findMessage(ctx, this.header, MSG.linkInfo);
    if (li) {
      const info = parseLinkInfo(ctx.cursor(li, `${what} link info`), ctx);
      if (info.heapAddress !== UNDEFINED_ADDRESS && info.nameIndexAddress !== UNDEFINED_ADDRESS) {
        const heap = await FractalHeap.open(ctx, info.heapAddress);
        const records = await btree2Records(ctx, info.nameIndexAddress, 5);
        for (const r of records) {
          const obj = await heap.get(r.subarray(4, 11));
          links.push(parseLink(ctx.cursor(obj, `${what} dense link`), ctx));
        }
      }
    }
    return links;
  }

  /** Children reached by hard links, keyed by link name (soft and external links are not followed). */
  children(): Promise<Map<string, Group | Dataset>> {
    this.childCache ??= this.loadChildren();
    return this.childCache;
  }

  private async loadChildren(): Promise<Map<string, Group | Dataset>> {
    const out = new Map<string, Group | Dataset>();
    for (const link of await this.links()) {
      if (link.kind !== 'hard') continue;
      if (link.address === UNDEFINED_ADDRESS) throw new ModelReadError(this.ctx.file, 'bad-group', `group "${this.path}": link "${link.name}" has an undefined address`);
      const header = await readObjectHeader(this.ctx, link.address);
      const path = this.path === '/' ? `/${link.name}` : `${this.path}/${link.name}`;
      const obj = await makeObject(this.ctx, header, link.name, path);
      if (obj) out.set(link.name, obj);
    }
    return out;
  }

  /** The object at a path relative to this group ('a/b'; a leading '/' is relative to this group too). */
  async get(path: string): Promise<Group | Dataset | undefined> {
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.length > LIMITS.maxDepth) throw new ModelReadError(this.ctx.file, 'too-deep', `path "${path}" has more than ${LIMITS.maxDepth} components`);
    if (parts.length === 0) return this;
    let children = await this.children();
    for (let i = 0; ; i++) {
      const next = children.get(parts[i]!);
      if (!next) return undefined;
      if (i === parts.length - 1) return next;
      if (!(next instanceof Group)) return undefined;
      children = await next.children();
    }
  }

  /**
   * Depth-first visit of every object below this group. Each object (by header address) is visited once,
   * so hard-link cycles terminate; deeper than LIMITS.maxDepth is a ModelReadError.
   */
  async walk(visit: (obj: Group | Dataset, depth: number) => void | Promise<void>): Promise<void> {
    const seen = new Set<number>([this.address]);
    const rec = async (g: Group, depth: number): Promise<void> => {
      if (depth > LIMITS.maxDepth) throw new ModelReadError(this.ctx.file, 'too-deep', `group "${g.path}" is nested deeper than ${LIMITS.maxDepth} levels`);
      for (const child of (await g.children()).values()) {
        if (seen.has(child.address)) continue;
        seen.add(child.address);
        await visit(child, depth + 1);
        if (child instanceof Group) await rec(child, depth + 1);
      }
    };
    await rec(this, 0);
  }
}

export class Dataset extends Hdf5Object {
  readonly kind = 'dataset' as const;

  constructor(
    ctx: Hdf5Context,
    header: ObjectHeader,
    name: string,
    path: string,
    private readonly space: Dataspace,
    /** The HDF5 datatype. */
    readonly datatype: Datatype,
    private readonly layout: Layout,
    private readonly filters: readonly Filter[],
    private readonly fill: Uint8Array | null,
  ) {
    super(ctx, header, name, path);
  }

  /** Dimensions ([] for a scalar or null dataspace). */
  get shape(): readonly number[] {
    return this.space.dims;
  }

  /** TensorFlow-style element type: 'float32', 'float16', 'int64', 'string', 'bool', ... */
  get dtype(): string {
    return dtypeName(this.datatype);
  }

  /** Storage summary, for display: 'contiguous', 'compact' or 'chunked(btree1)+deflate'. */
  get storage(): string {
    const base = this.layout.kind === 'chunked' ? `chunked(${this.layout.index})` : this.layout.kind;
    return [base, ...this.filters.map((f) => (f.id === 1 ? 'deflate' : f.id === 2 ? 'shuffle' : `filter${f.id}`))].join('+');
  }

  /** Reads and decodes the values. */
  async read(): Promise<TensorData> {
    const what = `dataset "${this.path}"`;
    const raw = await this.readBytes();
    return toTensor(this.ctx, this.datatype, this.shape, raw, what);
  }

  /** The raw element bytes in C order, as stored (file byte order). */
  async readBytes(): Promise<Uint8Array> {
    if (this.space.kind === 'null') return new Uint8Array(0);
    return readDatasetBytes(
      this.ctx,
      { shape: this.shape, maxShape: this.space.maxDims, elementSize: this.datatype.size, layout: this.layout, filters: this.filters, fill: this.fill },
      `dataset "${this.path}"`,
    );
  }
}
