import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Reader, decodeMessage } from '../../../src/core/formats/proto/wire';
import { decodeSavedModel, decodeBundleEntryProto, decodeTensorShapeProto, DataType } from '../../../src/core/formats/proto/gen';
import { ModelReadError } from '../../../src/core/io/errors';
import { realSavedModels } from './real-files';

function reader(bytes: number[]): Reader {
  return new Reader(Uint8Array.from(bytes), 'x.pb');
}

test('varints: 32-bit truncation, negative int64 and int32, zigzag, bigint', () => {
  // -1 as int64/int32 is ten bytes 0xff..0x01
  const minus1 = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
  assert.equal(reader(minus1).int64('M', 1), -1);
  assert.equal(reader(minus1).int32('M', 1), -1);
  assert.equal(reader(minus1).int64Big('M', 1), -1n);
  assert.equal(reader(minus1).uint64Big('M', 1), (1n << 64n) - 1n);
  assert.equal(reader([0xac, 0x02]).uint32('M', 1), 300);
  assert.equal(reader([0x03]).sint32('M', 1), -2);
  assert.equal(reader([0x04]).sint64('M', 1), 2);
  assert.equal(reader([0x03]).sint64Big('M', 1), -2n);
  // 2^53 + 1 is not representable as a number: int64 rounds, int64Big is exact
  const big = (1n << 53n) + 1n;
  const enc: number[] = [];
  let v = big;
  while (v >= 0x80n) {
    enc.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  enc.push(Number(v));
  assert.equal(reader(enc).int64Big('M', 1), big);
  assert.equal(reader(enc).int64('M', 1), 2 ** 53);
  assert.equal(reader([0x00, 0x00, 0x80, 0x3f]).float('M', 1), 1);
});

test('an 11-byte varint is rejected with a ModelReadError naming the file', () => {
  const r = reader([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
  assert.throws(() => r.int64('TensorShapeProto.Dim', 1), (e: unknown) => {
    assert.ok(e instanceof ModelReadError);
    assert.match(e.message, /^x\.pb: varint longer than 10 bytes in field 1 of TensorShapeProto\.Dim/);
    return true;
  });
});

test('a declared length beyond the message is reported with both numbers', () => {
  // field 2 (length-delimited) declaring 0xffffffff bytes
  const r = reader([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0]);
  assert.throws(() => decodeTensorShapeProto(r, 9), (e: unknown) => {
    assert.ok(e instanceof ModelReadError);
    assert.equal(e.message, 'x.pb: field 2 of TensorShapeProto declares 4294967295 bytes but 3 remain');
    assert.equal(e.reason, 'truncated');
    return true;
  });
});

test('invalid wire types and wrong wire types for known fields are errors', () => {
  assert.throws(() => decodeTensorShapeProto(reader([0x0e]), 1), /invalid field tag 14 \(field 1, wire type 6\) in TensorShapeProto/);
  // field 2 (dim, a message) sent as a varint
  assert.throws(() => decodeTensorShapeProto(reader([0x10, 0x01]), 2), /field 2 of TensorShapeProto has wire type varint, expected length-delimited/);
  // unknown field 9 as varint is skipped
  const m = decodeTensorShapeProto(reader([0x48, 0x05, 0x18, 0x01]), 4);
  assert.equal(m.unknownRank, true);
});

test('nesting deeper than LIMITS.maxDepth throws ModelReadError, not RangeError', () => {
  // StructuredValue.list_value (51) -> ListValue.values (1) -> StructuredValue ... 300 levels
  // Built inside-out as real nested length-delimited messages.
  let inner: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < 300; i++) {
    const lv = concat([0x0a], varint(inner.length), inner); // ListValue{values=inner}
    inner = concat([0x9a, 0x03], varint(lv.length), lv); // StructuredValue{list_value=lv} (51<<3|2 = 410)
  }
  assert.throws(
    () => decodeMessage(inner, 'deep.pb', (r, end) => decodeMessageByName(r, end)),
    (e: unknown) => e instanceof ModelReadError && /nested more than 100 levels/.test(e.message),
  );
});

import { decodeStructuredValue } from '../../../src/core/formats/proto/gen';
function decodeMessageByName(r: Reader, end: number): unknown {
  return decodeStructuredValue(r, end);
}
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
function concat(...parts: (number[] | Uint8Array)[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

test('real saved_model.pb files decode; function library stays lazy', (t) => {
  const files = realSavedModels();
  if (files.length === 0) return t.skip('no real SavedModel on this machine');
  for (const f of files) {
    const bytes = new Uint8Array(readFileSync(f));
    const sm = decodeMessage(bytes, 'saved_model.pb', decodeSavedModel);
    assert.ok(sm.metaGraphs.length >= 1, f);
    const mg = sm.metaGraphs[0];
    assert.ok((mg.graphDef?.node.length ?? 0) > 0, f);
    assert.ok((mg.metaInfoDef?.tags.length ?? 0) > 0, f);
    const lib = mg.graphDef?.library;
    if (lib) {
      assert.ok(lib.byteLength > 0);
      const fns = lib.get().function;
      // bodies are byte ranges until asked for
      if (fns.length > 0) assert.ok(fns[0].get().nodeDef.length >= 0);
    }
  }
});

test('BundleEntryProto decoder: fields 1, 2, 5 and 6 (crc32c is fixed32)', (t) => {
  // A message we encode ourselves (not a TensorFlow file): dtype=1, shape={dim{size:8}}, size=32, crc32c.
  assert.equal(DataType.DT_FLOAT, 1);
  const entry = decodeBundleEntryProto(reader([0x08, 0x01, 0x12, 0x04, 0x12, 0x02, 0x08, 0x08, 0x28, 0x20, 0x35, 0x78, 0x56, 0x34, 0x12]), 15);
  assert.equal(entry.dtype, 1);
  assert.deepEqual(entry.shape?.dim.map((d) => d.size), [8]);
  assert.equal(entry.size, 32);
  assert.equal(entry.crc32c, 0x12345678);
  t.diagnostic('checked field numbers 1,2,5,6 of BundleEntryProto');
});
