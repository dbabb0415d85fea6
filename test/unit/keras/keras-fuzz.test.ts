// Mutated real Keras configs and metadata must only ever produce ModelReadError (never TypeError/RangeError):
// random values replace random parts of the JSON TensorFlow wrote, and random bytes of real .h5 / .keras files
// are overwritten before opening them.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import os from 'node:os';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  batchNormParams,
  flattenKerasLayers,
  inferLayerWeights,
  parseKerasModelConfig,
  parsePythonJson,
  type Json,
} from '../../../src/core/formats/keras/keras-config';
import { kerasLayersFromMetadata, metadataFromKerasProto } from '../../../src/core/formats/keras/saved-model-layers';
import { openKerasH5 } from '../../../src/core/formats/keras/open-h5';
import { openKerasV3 } from '../../../src/core/formats/keras/open-keras-v3';
import { NodeFileSource } from '../../../src/core/io/file-source';
import { ZipArchive } from '../../../src/core/formats/zip/zip';
import { ModelReadError } from '../../../src/core/io/errors';
import { REAL, generatedFixture, kerasMetadataNodes } from './real-keras-files';
import { mulberry32 as rng } from '../../../src/core/finetune/plan';

const ODD_VALUES: Json[] = [null, true, 0, -1, 1.5, 1e308, '', 'x', [], {}, [null], { class_name: 3 }, [[['a', 'b', 'c', 'd']]], { args: 1, kwargs: [] }];

/** Replaces one randomly chosen value (anywhere in the tree) with an odd one. */
function mutate(root: Json, next: () => number): Json {
  const copy = JSON.parse(JSON.stringify(root)) as Json;
  const slots: { parent: Json[] | { [k: string]: Json }; key: string | number }[] = [];
  const walk = (v: Json): void => {
    if (Array.isArray(v)) {
      v.forEach((c, i) => {
        slots.push({ parent: v, key: i });
        walk(c);
      });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, c] of Object.entries(v)) {
        slots.push({ parent: v, key: k });
        walk(c);
      }
    }
  };
  walk(copy);
  const slot = slots[Math.floor(next() * slots.length)]!;
  const value = ODD_VALUES[Math.floor(next() * ODD_VALUES.length)]!;
  (slot.parent as Record<string | number, Json>)[slot.key] = JSON.parse(JSON.stringify(value)) as Json;
  return copy;
}

function onlyModelReadError(fn: () => void, what: string): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ModelReadError)) assert.fail(`${what}: ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
  }
}

test('mutated model configs: parse, flatten, weight inference and BN parameters throw only ModelReadError', async (t) => {
  const sources: Json[] = [];
  if (existsSync(REAL.openmv)) {
    const root = kerasMetadataNodes(REAL.openmv).find((n) => n.nodePath === 'root')!;
    sources.push(parsePythonJson(root.metadata, 'keras_metadata.pb', 'root'));
  }
  const k2 = generatedFixture('k2_nested_frozen_base');
  if (k2) {
    const root = kerasMetadataNodes(path.join(k2, 'saved_model')).find((n) => n.nodePath === 'root')!;
    sources.push(parsePythonJson(root.metadata, 'keras_metadata.pb', 'root'));
  }
  const k3 = generatedFixture('k3_nested_frozen_base');
  if (k3) {
    const zip = await ZipArchive.open(new NodeFileSource(k3), 'k3_nested_frozen_base.keras');
    sources.push(parsePythonJson(new TextDecoder().decode(await zip.read('config.json')), 'config.json', 'config.json'));
  }
  if (sources.length === 0) return t.skip('no real fixtures');
  const next = rng(20260101);
  for (const [s, source] of sources.entries()) {
    for (let i = 0; i < 400; i++) {
      const json = mutate(source, next);
      onlyModelReadError(() => {
        const spec = parseKerasModelConfig(json, 'f');
        for (const l of flattenKerasLayers(spec).layers) {
          inferLayerWeights(l.spec, 'keras2');
          inferLayerWeights(l.spec, 'keras3');
          batchNormParams(l.spec);
        }
      }, `source ${s} mutation ${i}`);
    }
  }
});

test('mutated keras_metadata.pb JSON: the layer tree builder throws only ModelReadError', (t) => {
  const dir = generatedFixture('k2_nested_frozen_base');
  if (!dir) return t.skip('generated fixture absent');
  const nodes = metadataFromKerasProto(kerasMetadataNodes(path.join(dir, 'saved_model')));
  const next = rng(7);
  for (let i = 0; i < 300; i++) {
    const victim = Math.floor(next() * nodes.length);
    const mutated = nodes.map((n, j) => (j === victim ? { ...n, metadata: JSON.stringify(mutate(parsePythonJson(n.metadata, 'k', 'k'), next)) } : n));
    onlyModelReadError(() => kerasLayersFromMetadata(mutated, 'keras_metadata.pb'), `mutation ${i}`);
  }
});

async function expectOnlyModelReadError(p: Promise<unknown>, what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof ModelReadError)) assert.fail(`${what}: ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
  }
}

test('byte-mutated copies of real .h5 and .keras files open or fail with ModelReadError', async (t) => {
  const files: [string, typeof openKerasH5][] = [];
  if (existsSync(REAL.resnet8)) files.push([REAL.resnet8, openKerasH5]);
  const k3 = generatedFixture('k3_nested_frozen_base');
  if (k3) files.push([path.join(k3, 'k3_nested_frozen_base.keras'), openKerasV3]);
  if (files.length === 0) return t.skip('no real fixtures');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fi-keras-fuzz-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const next = rng(99);
  for (const [file, opener] of files) {
    const original = readFileSync(file);
    for (let i = 0; i < 40; i++) {
      const bytes = Buffer.from(original);
      // Structure lives in the first kilobytes (superblock, headers, config): aim most mutations there.
      const span = next() < 0.7 ? Math.min(bytes.length, 65536) : bytes.length;
      for (let k = 0; k < 8; k++) bytes[Math.floor(next() * span)] = Math.floor(next() * 256);
      const target = path.join(tmp, `${i}-${path.basename(file)}`);
      writeFileSync(target, bytes);
      await expectOnlyModelReadError(
        opener(new NodeFileSource(tmp), path.basename(target), target).then(async (h) => {
          for (const v of h.model.variables.slice(0, 3)) await h.readTensor(v.key);
        }),
        `${path.basename(file)} mutation ${i}`,
      );
    }
  }
});
