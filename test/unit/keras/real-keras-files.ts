// Locations of the real Keras models the keras tests read, and small helpers that read the Keras JSON out of
// them through the project's own decoders (never a copy of the JSON).
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { decodeMessage } from '../../../src/core/formats/proto/wire';
import { decodeKerasSavedMetadata, decodeSavedModel, type KerasSavedObject } from '../../../src/core/formats/proto/gen';
import { generated, sharedReal } from '../../helpers/paths';

export const REAL = {
  openmv: sharedReal('openmv_mobilenet_bn'),
  kws: sharedReal('kws_dscnn_bn_tf24'),
  resnet8: sharedReal('h5_tiny_resnet8_bn', 'pretrainedResnet.h5'),
  vww: sharedReal('h5_tiny_vww_mobilenet_bn', 'vww_96.h5'),
  javaSubclassed: sharedReal('java_saved_model_using_python'),
};

/** Generated fixture folder, or null when it is absent. */
export function generatedFixture(name: string): string | null {
  const dir = generated(name);
  return existsSync(path.join(dir, 'expected.json')) ? dir : null;
}

export interface ExpectedLayer {
  path: string;
  class_name: string;
  configTrainable: boolean;
  effectiveTrainable: boolean;
  isModel: boolean;
  parent: string | null;
}
export interface ExpectedVariable {
  name: string;
  key: string;
  shape: number[];
  dtype: string;
  trainable: boolean;
  layer: string | null;
  createdTrainable: boolean;
}
export interface ExpectedBatchNorm {
  layer: string;
  class_name: string;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  effectiveTrainable: boolean;
  gamma: string | null;
  beta: string | null;
  moving_mean: string | null;
  moving_variance: string | null;
}
export interface Expected {
  fixture: string;
  format: string;
  path: string;
  keras: string;
  tensorflow: string;
  variables: ExpectedVariable[];
  layers: ExpectedLayer[];
  batchNorms: ExpectedBatchNorm[];
  callTrainingArgs?: Record<string, boolean>;
  checkpointKeys: { key: string; shape: number[]; dtype: string; role?: string }[];
}

export function readExpected(dir: string): Expected {
  return JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected;
}

/** keras_metadata.pb nodes, decoded with the project's protobuf decoder. */
export function kerasMetadataNodes(savedModelDir: string): KerasSavedObject[] {
  const bytes = readFileSync(path.join(savedModelDir, 'keras_metadata.pb'));
  return decodeMessage(new Uint8Array(bytes), 'keras_metadata.pb', decodeKerasSavedMetadata).nodes;
}

/** Keras metadata JSON strings kept in the object graph's SavedUserObject.metadata (TF <= 2.4), by node id. */
export function objectGraphMetadata(savedModelDir: string): { nodeId: number; identifier: string; metadata: string }[] {
  const bytes = readFileSync(path.join(savedModelDir, 'saved_model.pb'));
  const sm = decodeMessage(new Uint8Array(bytes), 'saved_model.pb', decodeSavedModel);
  const nodes = sm.metaGraphs[0]?.objectGraphDef?.nodes ?? [];
  const out: { nodeId: number; identifier: string; metadata: string }[] = [];
  nodes.forEach((n, i) => {
    if (n.userObject && n.userObject.metadata !== '') out.push({ nodeId: i, identifier: n.userObject.identifier, metadata: n.userObject.metadata });
  });
  return out;
}
