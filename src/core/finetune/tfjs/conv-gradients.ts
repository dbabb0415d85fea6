// Conv2D and DepthwiseConv2D layers that compute only the gradients the step uses.
//
// tfjs-layers runs Conv2D through tf.fused.conv2d, which under a gradient tape records one custom-gradient
// node that always computes the input gradient, the kernel gradient and the bias gradient. The tape can
// prune whole nodes but not parts of one, so a frozen convolution still pays for its kernel gradient, and
// the model's first convolution pays for a gradient of the input images (on MobileNet at 96x96, batch 32,
// that alone was 12% of a step). DepthwiseConv2D is a depthwise convolution whose gradient always computes
// both the input and the filter gradient, then a bias add through a reshape (five more ops with their
// gradients, each a TensorFlow call on tfjs-node). Here each layer's call is one fused forward kernel and asks
// for exactly what is needed: the input gradient only when some layer before it trains, the kernel and bias
// gradients only when they train. tfjs-layers' DepthwiseConv2D also drops dilation_rate: a dilated one always
// takes this path (needsOwnDepthwise), fast paths or not.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { channelKernelsActive, channelSum } from '../kernels/channel-kernels';

/** The parts of tfjs-layers' Conv2D and DepthwiseConv2D this module reads. */
interface ConvLayerLike {
  rank: number;
  dataFormat: string;
  padding: 'same' | 'valid' | 'causal';
  strides: number[];
  dilationRate: number | number[] | null | undefined;
  /** Conv2D's kernel. */
  kernel?: { read(): tf.Tensor } | null;
  /** DepthwiseConv2D's kernel. */
  depthwiseKernel?: { read(): tf.Tensor } | null;
  bias: { read(): tf.Tensor } | null;
  activation: { apply(t: tf.Tensor): tf.Tensor; getClassName(): string } | null;
  call: (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
}

type ConvKind = 'conv' | 'depthwise';

function dilationOf(c: ConvLayerLike): [number, number] {
  const d = c.dilationRate == null ? [1] : typeof c.dilationRate === 'number' ? [c.dilationRate] : c.dilationRate;
  return [d[0] ?? 1, d[1] ?? d[0] ?? 1];
}

/**
 * 'conv' for a 2-D, channels-last, undilated Conv2D; 'depthwise' for a 2-D, channels-last DepthwiseConv2D
 * (dilated or not: tfjs-layers' own DepthwiseConv2D ignores dilation_rate, so a dilated one must take this
 * path); null otherwise.
 */
function plainConvKind(layer: tfl.layers.Layer): ConvKind | null {
  const cls = layer.getClassName();
  if (cls !== 'Conv2D' && cls !== 'DepthwiseConv2D') return null;
  const c = layer as unknown as ConvLayerLike;
  if (c.rank !== 2 || c.dataFormat !== 'channelsLast' || c.padding === 'causal') return null;
  if (cls === 'DepthwiseConv2D') return 'depthwise';
  return dilationOf(c).every((d) => d === 1) ? 'conv' : null;
}

/** A DepthwiseConv2D that tfjs-layers would run wrongly (it drops the dilation). */
export function needsOwnDepthwise(layer: tfl.layers.Layer): boolean {
  return plainConvKind(layer) === 'depthwise' && dilationOf(layer as unknown as ConvLayerLike).some((d) => d !== 1);
}

/**
 * Replaces the call of every plain Conv2D (2-D, channels-last, undilated) among `leaves` (in topological
 * order). `trains` says which variables the step optimizes (the engine's list: tfjs-layers' own
 * trainableWeights is empty for a layer saved with trainable=False, whatever the plan says).
 * `only` limits the change to the layers it accepts. Returns how many layers were changed.
 */
export function installSelectiveConvGradients(leaves: readonly { layer: tfl.layers.Layer }[], trains: (v: tf.Variable) => boolean, only?: (layer: tfl.layers.Layer) => boolean): number {
  let anyTrainableBefore = false;
  let installed = 0;
  for (const { layer } of leaves) {
    const kind = plainConvKind(layer);
    if (kind && (!only || only(layer))) {
      install(layer as unknown as ConvLayerLike, kind, anyTrainableBefore, trains);
      installed++;
    }
    if (layer.weights.some((w) => trains(w.read() as tf.Variable))) anyTrainableBefore = true;
  }
  return installed;
}

function install(layer: ConvLayerLike, kind: ConvKind, needInput: boolean, trains: (v: tf.Variable) => boolean): void {
  const strides = layer.strides as [number, number];
  const pad = layer.padding as 'same' | 'valid';
  const fused = kind === 'conv' ? tf.fused.conv2d : tf.fused.depthwiseConv2d;
  const [inputKernel, filterKernel] = kind === 'conv' ? ['Conv2DBackpropInput', 'Conv2DBackpropFilter'] : ['DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'];
  const kernelVar = (kind === 'conv' ? layer.kernel : layer.depthwiseKernel)!;
  const dilations = dilationOf(layer);
  layer.call = (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor =>
    tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const kernel = kernelVar.read() as tf.Tensor4D;
      const bias = layer.bias ? layer.bias.read() : null;
      const forward = (xx: tf.Tensor4D, kk: tf.Tensor4D, bb: tf.Tensor | null): tf.Tensor =>
        fused({ x: xx, filter: kk, strides, pad, dataFormat: 'NHWC', dilations, ...(bb ? { bias: bb } : {}), activation: 'linear' });
      const needKernel = trains(kernel as unknown as tf.Variable);
      const needBias = bias !== null && trains(bias as tf.Variable);
      let y: tf.Tensor;
      if (!needInput && !needKernel && !needBias) {
        y = forward(x, kernel, bias);
      } else {
        const ins: tf.Tensor[] = [];
        if (needInput) ins.push(x);
        if (needKernel) ins.push(kernel);
        if (needBias) ins.push(bias);
        const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
          const save = args[args.length - 1] as tf.GradSaveFunc;
          let i = 0;
          const xx = needInput ? (args[i++] as tf.Tensor4D) : x;
          const kk = needKernel ? (args[i++] as tf.Tensor4D) : kernel;
          const bb = needBias ? (args[i++] as tf.Tensor) : bias;
          save([xx, kk]);
          return {
            value: forward(xx, kk, bb),
            gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
              const d = dy as tf.Tensor4D;
              const [sx, sk] = saved as [tf.Tensor4D, tf.Tensor4D];
              const grads: tf.Tensor[] = [];
              const common = { strides, pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined };
              if (needInput) grads.push(tf.engine().runKernel(inputKernel, { dy: d, filter: sk }, { ...common, inputShape: sx.shape } as unknown as tf.NamedAttrMap) as tf.Tensor);
              if (needKernel) grads.push(tf.engine().runKernel(filterKernel, { x: sx, dy: d }, { ...common, filterShape: sk.shape } as unknown as tf.NamedAttrMap) as tf.Tensor);
              if (needBias) grads.push(channelKernelsActive() ? channelSum(d) : tf.sum(d, [0, 1, 2]));
              return grads;
            },
          };
        });
        y = op(...ins);
      }
      return layer.activation ? layer.activation.apply(y) : y;
    });
}
