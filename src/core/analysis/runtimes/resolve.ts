// runtime "auto": decided from the format and the versions recorded in the model.
import type { Model } from '../../model/ir';
import type { FreezeConfig, Runtime } from '../types';

function major(v: string | null): number | null {
  const m = v ? /^(\d+)\.(\d+)/.exec(v) : null;
  return m ? Number(m[1]) * 1000 + Number(m[2]) : null;
}

function versions(model: Model): string {
  const parts = [];
  if (model.tensorflowVersion) parts.push(`TensorFlow ${model.tensorflowVersion}`);
  if (model.kerasVersion) parts.push(`Keras ${model.kerasVersion}`);
  return parts.length ? ` (recorded: ${parts.join(', ')})` : '';
}

/** The runtime a model trains under, from the format and recorded versions; the config's explicit choice wins. */
export function resolveRuntime(model: Model, config: Pick<FreezeConfig, 'runtime'>): { runtime: Runtime; why: string } {
  const auto = autoRuntime(model);
  if (config.runtime !== 'auto') {
    const model = auto.runtime !== config.runtime ? `; the model itself suggests ${auto.runtime}: ${auto.why}` : `, as the model suggests: ${auto.why}`;
    return { runtime: config.runtime, why: `set in the config ("runtime": "${config.runtime}")${model}` };
  }
  return auto;
}

function autoRuntime(model: Model): { runtime: Runtime; why: string } {
  const v = versions(model);
  switch (model.format) {
    case 'saved-model-tf1':
      return { runtime: 'tf1-graph', why: `TF1 graph SavedModel (no object graph)${v}: trained with Session.run on this graph` };
    case 'tf1-meta-checkpoint':
      return { runtime: 'tf1-graph', why: `TF1 .meta graph + checkpoint${v}: trained with Session.run on this graph` };
    case 'keras-v3':
      return { runtime: 'keras3', why: `Keras 3 .keras archive${v}` };
    case 'saved-model-keras3-export':
      return { runtime: 'keras3', why: `SavedModel exported by Keras 3${v}` };
    case 'saved-model-keras':
    case 'keras-h5': {
      const what = model.format === 'keras-h5' ? 'Keras HDF5 file' : 'tf.keras SavedModel (keras_metadata.pb)';
      const k = major(model.kerasVersion);
      if (k !== null && k >= 3000) return { runtime: 'keras3', why: `${what} written by Keras 3${v}` };
      if (k !== null) return { runtime: 'tf2-keras', why: `${what} written by Keras 2${v}` };
      const tf = major(model.tensorflowVersion);
      if (tf !== null && tf >= 2016) return { runtime: 'keras3', why: `${what}; TensorFlow >= 2.16 bundles Keras 3${v}` };
      return { runtime: 'tf2-keras', why: `${what}${v || ' (no version recorded)'}: tf.keras 2.x semantics` };
    }
    case 'saved-model-tf2': {
      if (model.tf1Graph) return { runtime: 'tf1-graph', why: `SavedModel with a TF1-style graph${v}` };
      const tf = major(model.tensorflowVersion);
      if (tf !== null && tf >= 2016) return { runtime: 'keras3', why: `TF2 SavedModel of a non-Keras object${v}; TensorFlow >= 2.16 fine-tunes with Keras 3` };
      return { runtime: 'tf2-keras', why: `TF2 SavedModel of a non-Keras object${v}: fine-tuned from tf.keras 2.x` };
    }
  }
}
