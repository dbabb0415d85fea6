// Object headers, version 1 (16-byte prefix, 8-byte aligned messages) and version 2 ("OHDR", packed
// messages, lookup3 checksums), with their continuation blocks. Continuations are followed at most
// once each, so a header that points back into itself cannot loop.
import { ModelReadError } from '../../io/errors';
import { hex, UNDEFINED_ADDRESS } from './bytes';
import type { Hdf5Context } from './context';
import { MSG, parseSharedMessageAddress } from './messages';

export interface HeaderMessage {
  readonly type: number;
  readonly flags: number;
  readonly data: Uint8Array;
}

export interface ObjectHeader {
  readonly address: number;
  readonly version: 1 | 2;
  readonly messages: readonly HeaderMessage[];
}

const MAX_CHUNKS = 10_000;

export async function readObjectHeader(ctx: Hdf5Context, addr: number): Promise<ObjectHeader> {
  const what = `object header at ${hex(addr)}`;
  if (addr === UNDEFINED_ADDRESS) throw new ModelReadError(ctx.file, 'bad-address', 'object header address is undefined');
  const first = await ctx.readUpTo(addr, 16, 'object header');
  if (first.length >= 4 && first[0] === 0x4f && first[1] === 0x48 && first[2] === 0x44 && first[3] === 0x52) {
    return readV2(ctx, addr, what);
  }
  if (first[0] === 1) return readV1(ctx, addr, what, first);
  throw new ModelReadError(ctx.file, 'bad-object-header', `${what}: not an object header (first byte ${first[0]})`);
}

async function readV1(ctx: Hdf5Context, addr: number, what: string, first: Uint8Array): Promise<ObjectHeader> {
  const c = ctx.cursor(first, what);
  c.u8();
  c.u8();
  c.u16(); // total number of messages (not trusted: the chunks say how many there are)
  c.u32(); // reference count
  const headerSize = c.u32();
  const messages: HeaderMessage[] = [];
  const seen = new Set<number>([addr]);
  const chunks: { addr: number; len: number }[] = [{ addr: addr + 16, len: headerSize }];
  for (let i = 0; i < chunks.length; i++) {
    if (i >= MAX_CHUNKS) throw new ModelReadError(ctx.file, 'too-large', `${what}: more than ${MAX_CHUNKS} continuation blocks`);
    const chunk = chunks[i]!;
    const buf = await ctx.read(chunk.addr, chunk.len, 'object header block');
    const mc = ctx.cursor(buf, `${what} (block at ${hex(chunk.addr)})`);
    while (mc.remaining >= 8) {
      const type = mc.u16();
      const size = mc.u16();
      const flags = mc.u8();
      mc.skip(3);
      const data = mc.bytes(size);
      pushMessage(ctx, what, messages, { type, flags, data }, chunks, seen);
    }
  }
  return { address: addr, version: 1, messages };
}

async function readV2(ctx: Hdf5Context, addr: number, what: string): Promise<ObjectHeader> {
  const pre = await ctx.readUpTo(addr, 4 + 1 + 1 + 16 + 4 + 8, 'object header');
  const c = ctx.cursor(pre, what);
  c.signature('OHDR');
  const version = c.u8();
  if (version !== 2) throw new ModelReadError(ctx.file, 'bad-object-header', `${what}: unsupported object header version ${version}`);
  const flags = c.u8();
  if (flags & 0x20) c.skip(16);
  if (flags & 0x10) c.skip(4);
  const chunk0Size = c.uint(1 << (flags & 3));
  const prefixLen = c.pos;
  const trackOrder = (flags & 0x04) !== 0;
  const messages: HeaderMessage[] = [];
  const seen = new Set<number>([addr]);
  const chunks: { addr: number; len: number }[] = [];
  // Chunk 0: prefix + messages + checksum, the checksum covering prefix and messages.
  const buf0 = await ctx.read(addr, prefixLen + chunk0Size + 4, 'object header');
  ctx.verifyChecksum(buf0, 0, prefixLen + chunk0Size, what);
  parseV2Messages(ctx, what, buf0, prefixLen, prefixLen + chunk0Size, trackOrder, messages, chunks, seen);
  for (let i = 0; i < chunks.length; i++) {
    if (i >= MAX_CHUNKS) throw new ModelReadError(ctx.file, 'too-large', `${what}: more than ${MAX_CHUNKS} continuation blocks`);
    const chunk = chunks[i]!;
    const cwhat = `${what} (continuation block at ${hex(chunk.addr)})`;
    if (chunk.len < 8) throw new ModelReadError(ctx.file, 'bad-object-header', `${cwhat}: length ${chunk.len} is too small`);
    const buf = await ctx.read(chunk.addr, chunk.len, 'object header continuation block');
    ctx.cursor(buf, cwhat).signature('OCHK');
    ctx.verifyChecksum(buf, 0, chunk.len - 4, cwhat);
    parseV2Messages(ctx, what, buf, 4, chunk.len - 4, trackOrder, messages, chunks, seen);
  }
  return { address: addr, version: 2, messages };
}

function parseV2Messages(
  ctx: Hdf5Context,
  what: string,
  buf: Uint8Array,
  start: number,
  end: number,
  trackOrder: boolean,
  messages: HeaderMessage[],
  chunks: { addr: number; len: number }[],
  seen: Set<number>,
): void {
  const headLen = trackOrder ? 6 : 4;
  const mc = ctx.cursor(buf, what, start, end);
  while (mc.remaining >= headLen) {
    const type = mc.u8();
    const size = mc.u16();
    const flags = mc.u8();
    if (trackOrder) mc.u16();
    const data = mc.bytes(size);
    pushMessage(ctx, what, messages, { type, flags, data }, chunks, seen);
  }
}

function pushMessage(
  ctx: Hdf5Context,
  what: string,
  messages: HeaderMessage[],
  msg: HeaderMessage,
  chunks: { addr: number; len: number }[],
  seen: Set<number>,
): void {
  if (messages.length >= ctx.limits.maxMessages) throw new ModelReadError(ctx.file, 'too-large', `${what}: more than ${ctx.limits.maxMessages} messages`);
  if (msg.type === MSG.continuation) {
    const c = ctx.cursor(msg.data, `${what} (continuation message)`);
    const a = c.addr(ctx.offsetSize);
    const len = c.uint(ctx.lengthSize);
    if (a === UNDEFINED_ADDRESS) throw new ModelReadError(ctx.file, 'bad-object-header', `${what}: continuation to an undefined address`);
    if (seen.has(a)) throw new ModelReadError(ctx.file, 'cycle', `${what}: continuation block ${hex(a)} is referenced twice (cyclic header)`);
    seen.add(a);
    chunks.push({ addr: a, len });
    return;
  }
  messages.push(msg);
}

/** The first message of `type`, following a "shared" indirection to a committed object when flagged. */
export async function findMessage(ctx: Hdf5Context, header: ObjectHeader, type: number, depth = 0): Promise<Uint8Array | null> {
  const msg = header.messages.find((m) => m.type === type);
  if (!msg) return null;
  if ((msg.flags & 0x02) === 0) return msg.data;
  return resolveShared(ctx, msg.data, type, `object header at ${hex(header.address)}`, depth);
}

export async function resolveShared(ctx: Hdf5Context, shared: Uint8Array, type: number, what: string, depth = 0): Promise<Uint8Array> {
  if (depth > 8) throw new ModelReadError(ctx.file, 'too-deep', `${what}: shared message chain longer than 8`);
  const target = parseSharedMessageAddress(ctx.cursor(shared, `${what} (shared message)`), ctx);
  const other = await readObjectHeader(ctx, target);
  const found = await findMessage(ctx, other, type, depth + 1);
  if (!found) throw new ModelReadError(ctx.file, 'bad-shared-message', `${what}: shared message type ${type} not found in object header at ${hex(target)}`);
  return found;
}
