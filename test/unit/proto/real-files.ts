import { existsSync } from 'node:fs';
import { sharedReal, generated } from '../../helpers/paths';

/** Real saved_model.pb files available on this machine (shared fixtures and generated ones). */
export function realSavedModels(): string[] {
  const candidates = [
    sharedReal('openmv_mobilenet_bn/saved_model.pb'),
    sharedReal('kws_dscnn_bn_tf24/saved_model.pb'),
    sharedReal('rust_regression_tf1_train/saved_model.pb'),
    sharedReal('vespa_modelv1/saved_model.pb'),
    generated('k2_cnn_bn/saved_model/saved_model.pb'),
    generated('tf1_seed/saved_model/saved_model.pb'),
  ];
  return candidates.filter((p) => existsSync(p));
}

