// Replaces tfjs-layers' BatchNormalization.call with the runtime's semantics, per layer.
//
// tfjs-layers' own call (4.22) normalizes with batch statistics and updates the moving ones whenever it is
// called with training=true, whatever `trainable` says (SEMANTICS F2), ignores per-node `training` kwargs
// (F3), and crashes in training with scale=false or center=false (F4). Here every layer gets the mode the
// plan decided (batch or moving statistics, update or not), gamma/beta are optional, and the moving-variance
// update uses the unbiased batch variance where TensorFlow's fused kernel does (tf.keras 2.x, rank 4/5).
import * as tf from '@tensorflow/tfjs-core';
import type { BnMode } from '../plan';
import { batchNormGrad, batchNormTrain, channelKernelsActive } from '../kernels/channel-kernels';

/** What the engine is doing with the model right now. */
export type ForwardMode =
  /** A training step: the plan's mode per layer, moving statistics updated where the plan says. */
  | 'train'
  /** Same normalization as 'train' but nothing written; records each layer's train/inference gap. */
  | 'probe'
  /** Inference: every layer uses its moving statistics. */
  | 'inference';

/** The parts of tfjs-layers' BatchNormalization this module reads. */
export interface BnLayerLike {
  name: string;
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: { read(): tf.Tensor } | null;
  beta?: { read(): tf.Tensor } | null;
  movingMean: { read(): tf.Tensor; write(v: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(v: tf.Tensor): void };
  call: (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
}

export interface BnEntry {
  readonly path: string;
  readonly layer: BnLayerLike;
  readonly mode: BnMode;
  readonly unbiasedMovingVariance: boolean;
}

export class BatchNormController {
  mode: ForwardMode = 'inference';
  /** Filled during 'probe' passes: layer path -> mean |BN(batch stats) - BN(moving stats)|. */
  readonly gaps = new Map<string, number>();
  private readonly entries: BnEntry[] = [];

  get layers(): readonly BnEntry[] {
    return this.entries;
  }

  install(entry: BnEntry): void {
    this.entries.push(entry);
    entry.layer.call = (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor => this.forward(entry, Array.isArray(inputs) ? inputs[0]! : inputs);
  }

  private forward(e: BnEntry, x: tf.Tensor): tf.Tensor {
    const { layer } = e;
    const rank = x.rank;
    const axis = layer.axis < 0 ? rank + layer.axis : layer.axis;
    const reduction = [...Array(rank).keys()].filter((a) => a !== axis);
    const channels = x.shape[axis]!;
    const bshape = [...Array(rank).keys()].map((a) => (a === axis ? channels : 1));
    const b = (t: tf.Tensor): tf.Tensor => (axis === rank - 1 ? t : tf.reshape(t, bshape));
    const gamma = layer.gamma ? layer.gamma.read() : null;
    const beta = layer.beta ? layer.beta.read() : null;
    const eps = layer.epsilon;

    /** y = x * gamma/sqrt(var+eps) + (beta - mean * gamma/sqrt(var+eps)): broadcasting ops only (tfjs's batchNorm gradient tiles). */
    const withStats = (mean: tf.Tensor, variance: tf.Tensor): tf.Tensor => {
      let scale = tf.rsqrt(tf.add(variance, eps));
      if (gamma) scale = tf.mul(scale, gamma);
      let shift = tf.neg(tf.mul(mean, scale));
      if (beta) shift = tf.add(shift, beta);
      return tf.add(tf.mul(x, b(scale)), b(shift));
    };

    if (this.mode === 'probe') {
      tf.tidy(() => {
        const m = tf.moments(x, reduction);
        const gap = tf.mean(tf.abs(tf.sub(withStats(m.mean, m.variance), withStats(layer.movingMean.read(), layer.movingVariance.read()))));
        this.gaps.set(e.path, gap.dataSync()[0]!);
      });
    }
    const useBatch = this.mode !== 'inference' && e.mode.normalizesWith === 'batch';
    if (!useBatch) return withStats(layer.movingMean.read(), layer.movingVariance.read());
    // Channels-last on a backend with our channel kernels: two passes forward, two backward (channel-kernels.ts).
    const fast = axis === rank - 1 && channelKernelsActive();

    const update = this.mode === 'train' && e.mode.updatesMovingStats;
    const n = x.size / channels;
    const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
    // Batch statistics with the closed-form gradient (one pass, instead of differentiating through moments).
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const xx = args[0] as tf.Tensor;
      const g = gamma ? (args[1] as tf.Tensor) : null;
      const bt = beta ? (args[gamma ? 2 : 1] as tf.Tensor) : null;
      // Channel-kernel path: statistics and normalization in two passes over x (channel-kernels.ts).
      const fwd = fast ? batchNormTrain(xx, g ?? tf.onesLike(layer.movingMean.read()), bt ?? tf.zerosLike(layer.movingMean.read()), eps) : null;
      const { mean, variance } = fwd ?? tf.moments(xx, reduction);
      if (update) {
        // Moving averages as Keras writes them; assign() is not recorded on the tape.
        updateMovingAverages(layer, mean, variance, e.unbiasedMovingVariance && n > 1 ? n / (n - 1) : 1);
      }
      if (fwd) {
        const k = g ? tf.mul(fwd.rstd, g) : fwd.rstd;
        save([xx, mean, fwd.rstd, k]);
        return {
          value: fwd.y,
          gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
            const [sx, sm, sr, sk] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
            const { dx, dgamma, dbeta } = batchNormGrad(dy as tf.Tensor, sx, sm, sr, sk);
            const grads = [dx];
            if (g) grads.push(dgamma);
            else dgamma.dispose();
            if (bt) grads.push(dbeta);
            else dbeta.dispose();
            return grads;
          },
        };
      }
      const rstd = b(tf.rsqrt(tf.add(variance, eps)));
      const xhat = tf.mul(tf.sub(xx, b(mean)), rstd);
      let y = xhat;
      if (g) y = tf.mul(y, b(g));
      if (bt) y = tf.add(y, b(bt));
      save(g ? [xhat, rstd, g] : [xhat, rstd]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const d = dy as tf.Tensor;
          const [sx, sr, sg] = saved as [tf.Tensor, tf.Tensor, tf.Tensor | undefined];
          const dbeta = tf.sum(d, reduction);
          const dgamma = tf.sum(tf.mul(d, sx), reduction);
          const k = sg ? tf.mul(sr, b(sg)) : sr;
          // dx = gamma*rstd * (dy - mean(dy) - xhat * mean(dy*xhat))
          const dx = tf.mul(k, tf.sub(tf.sub(d, b(tf.div(dbeta, n))), tf.mul(sx, b(tf.div(dgamma, n)))));
          return [dx, ...(sg ? [dgamma] : []), ...(bt ? [dbeta] : [])];
        },
      };
    });
    return op(...inputs);
  }
}

/**
 * moving = moving * momentum + batch * (1 - momentum), per channel, for the mean and the variance (times
 * `varianceFactor`, the Bessel correction where the fused kernel applies it). The same float32 operations the
 * tfjs ops performed (each product and sum rounded to float32), computed on the host from the [C] statistics: one
 * write per statistic instead of seven backend ops per layer, which tfjs-node pays for one by one.
 */
export function updateMovingAverages(layer: Pick<BnLayerLike, 'momentum' | 'movingMean' | 'movingVariance'>, mean: tf.Tensor, variance: tf.Tensor, varianceFactor: number): void {
  const f = Math.fround;
  const keep = f(layer.momentum);
  const take = f(1 - layer.momentum);
  const factor = f(varianceFactor);
  const blend = (moving: { read(): tf.Tensor; write(v: tf.Tensor): void }, batch: tf.Tensor, scale: number | null): void => {
    const old = moving.read();
    const m = old.dataSync() as Float32Array;
    const x = batch.dataSync() as Float32Array;
    const out = new Float32Array(m.length);
    for (let i = 0; i < out.length; i++) {
      const v = scale === null ? x[i]! : f(x[i]! * scale);
      out[i] = f(f(m[i]! * keep) + f(v * take));
    }
    moving.write(tf.tensor(out, old.shape, 'float32'));
  };
  blend(layer.movingMean, mean, null);
  blend(layer.movingVariance, variance, varianceFactor === 1 ? null : factor);
}
