// Convolution gradients expressed as ordinary tfjs ops (forward convolutions, strided slices, matMul), so
// they run on whatever fast kernels the active backend has. The wasm backend has no Conv2DBackpropFilter
// nor depthwise gradients at all, and the cpu backend's are naive loops; these replace both.
//
// Conventions follow TensorFlow's: NHWC tensors, filters [kh, kw, in, out] (depthwise: [kh, kw, c, multiplier]).
// Padding comes from tfjs's own computeConv2DInfo, so 'same'/'valid'/explicit/number agree with the forward op.
import {
  add,
  backend_util,
  concat,
  conv2d,
  depthwiseConv2d,
  matMul,
  mul,
  pad,
  reshape,
  reverse,
  slice,
  stack,
  stridedSlice,
  sum,
  transpose,
  type Tensor,
  type Tensor4D,
} from '@tensorflow/tfjs-core';
import type { PadArg, Shape4 } from './conv-rows';

export type { PadArg } from './conv-rows';
export type RoundingMode = 'floor' | 'round' | 'ceil' | undefined;

function pair(v: number | [number, number] | undefined): [number, number] {
  if (v == null) return [1, 1];
  return typeof v === 'number' ? [v, v] : v;
}

/** Inserts (s-1) zeros between rows/columns: [b, h, w, c] -> [b, (h-1)*sh+1, (w-1)*sw+1, c]. */
function dilateSpatial(t: Tensor4D, sh: number, sw: number): Tensor4D {
  if (sh === 1 && sw === 1) return t;
  const [b, h, w, c] = t.shape;
  const t6 = reshape(t, [b, h, 1, w, 1, c]);
  const padded = pad(t6, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  const flat = reshape(padded, [b, h * sh, w * sw, c]) as Tensor4D;
  return slice(flat, [0, 0, 0, 0], [b, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
}

/**
 * Pads (or crops, for negative amounts) the two spatial axes of an NHWC tensor.
 * Convolution backprop sometimes needs negative padding, which no pad op accepts.
 */
function padOrCrop(t: Tensor4D, top: number, bottom: number, left: number, right: number): Tensor4D {
  let r = t;
  const cropTop = Math.max(0, -top);
  const cropBottom = Math.max(0, -bottom);
  const cropLeft = Math.max(0, -left);
  const cropRight = Math.max(0, -right);
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    const [b, h, w, c] = r.shape;
    r = slice(r, [0, cropTop, cropLeft, 0], [b, h - cropTop - cropBottom, w - cropLeft - cropRight, c]);
  }
  const pt = Math.max(0, top);
  const pb = Math.max(0, bottom);
  const pl = Math.max(0, left);
  const pr = Math.max(0, right);
  if (pt + pb + pl + pr > 0) r = pad(r, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
  return r;
}

/**
 * The padding argument for a 'valid' convolution of padOrCrop(t, top, bottom, left, right): the amounts themselves
 * when none is negative (the convolution pads as it reads, instead of a padded copy of the tensor), else null.
 */
function explicitPad(top: number, bottom: number, left: number, right: number): backend_util.ExplicitPadding | null {
  if (top < 0 || bottom < 0 || left < 0 || right < 0) return null;
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}

function toNhwc(t: Tensor4D, dataFormat: 'NHWC' | 'NCHW' | undefined): Tensor4D {
  return dataFormat === 'NCHW' ? transpose(t, [0, 2, 3, 1]) : t;
}

function convInfo(xShape: Shape4, filterShape: Shape4, strides: number | [number, number], dilations: number | [number, number],
  padArg: PadArg, rounding: RoundingMode, depthwise: boolean): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(xShape, filterShape, strides, dilations, padArg, rounding, depthwise, 'channelsLast');
}

export interface Conv2DBackpropFilterArgs {
  x: Tensor4D;
  dy: Tensor4D;
  filterShape: Shape4;
  strides: number | [number, number];
  pad: PadArg;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: RoundingMode;
  /** Forward dilation (tfjs's kernel has none; kept for completeness and tests). */
  dilations?: number | [number, number];
}

/**
 * dW[i, j, ci, co] = sum_{b, y, x} xPadded[b, y*sh + i*dh, x*sw + j*dw, ci] * dy[b, y, x, co].
 * Read as a convolution of x (batch and channel axes swapped) with dy as the filter: the forward stride
 * becomes the dilation and the forward dilation becomes the stride.
 */
export function conv2dBackpropFilterViaConv(a: Conv2DBackpropFilterArgs): Tensor4D {
  const x = toNhwc(a.x, a.dataFormat);
  const dy = toNhwc(a.dy, a.dataFormat);
  const [sh, sw] = pair(a.strides);
  const [dh, dw] = pair(a.dilations);
  const [kh, kw] = a.filterShape;
  const info = convInfo(x.shape, a.filterShape, [sh, sw], [dh, dw], a.pad, a.dimRoundingMode, false);
  const [, oh, ow] = dy.shape;
  const H = x.shape[1];
  const W = x.shape[2];
  // Rows of padded x that the forward pass touched: (kh-1)*dh + (oh-1)*sh + 1 of them, from -top.
  const needH = (kh - 1) * dh + (oh - 1) * sh + 1;
  const needW = (kw - 1) * dw + (ow - 1) * sw + 1;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const xp = padOrCrop(x, top, needH - H - top, left, needW - W - left);
  const xT = transpose(xp, [3, 1, 2, 0]); // [ci, H', W', b]
  const f = transpose(dy, [1, 2, 0, 3]); // [oh, ow, b, co]
  const out = conv2d(xT, f, [dh, dw], 'valid', 'NHWC', [sh, sw]); // [ci, kh, kw, co]
  return transpose(out, [1, 2, 0, 3]);
}

/**
 * Same result as conv2dBackpropFilterViaConv, computed as im2col + one matMul: fastest where the backend's
 * matMul is much better than its convolution (the cpu backend's conv is a naive loop, its matMul is blocked).
 */
export function conv2dBackpropFilterViaMatMul(a: Conv2DBackpropFilterArgs): Tensor4D {
  const x = toNhwc(a.x, a.dataFormat);
  const dy = toNhwc(a.dy, a.dataFormat);
  const [sh, sw] = pair(a.strides);
  const [dh, dw] = pair(a.dilations);
  const [kh, kw, ci, co] = a.filterShape;
  const info = convInfo(x.shape, a.filterShape, [sh, sw], [dh, dw], a.pad, a.dimRoundingMode, false);
  const [b, oh, ow] = dy.shape;
  const H = x.shape[1];
  const W = x.shape[2];
  const needH = (kh - 1) * dh + (oh - 1) * sh + 1;
  const needW = (kw - 1) * dw + (ow - 1) * sw + 1;
  const xp = padOrCrop(x, info.padInfo.top, needH - H - info.padInfo.top, info.padInfo.left, needW - W - info.padInfo.left);
  const dyFlat = reshape(dy, [b * oh * ow, co]);
  if (kh === 1 && kw === 1) {
    const xs = sh === 1 && sw === 1 ? xp : stridedSlice(xp, [0, 0, 0, 0], [b, needH, needW, ci], [1, sh, sw, 1]);
    // An explicit transpose and a plain matMul: wasm's matMul with transposeA is 5-10x slower than both together.
    const prod = matMul(transpose(reshape(xs, [b * oh * ow, ci])), dyFlat);
    return reshape(prod, [1, 1, ci, co]);
  }
  const cols: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const patch = stridedSlice(xp, [0, i * dh, j * dw, 0], [b, i * dh + (oh - 1) * sh + 1, j * dw + (ow - 1) * sw + 1, ci], [1, sh, sw, 1]);
      cols.push(reshape(patch, [b * oh * ow, ci]));
    }
  }
  const im2col = concat(cols, 1); // [b*oh*ow, kh*kw*ci]
  const prod = matMul(transpose(im2col), dyFlat); // [kh*kw*ci, co]
  return reshape(prod, [kh, kw, ci, co]);
}

export interface Conv2DBackpropInputArgs {
  dy: Tensor4D;
  filter: Tensor4D;
  inputShape: Shape4;
  strides: number | [number, number];
  pad: PadArg;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: RoundingMode;
  dilations?: number | [number, number];
}

/** dx = convolution of dy (zero-stuffed by the stride) with the spatially flipped, in/out-swapped filter. */
export function conv2dBackpropInputViaConv(a: Conv2DBackpropInputArgs): Tensor4D {
  const nchw = a.dataFormat === 'NCHW';
  const xShape: Shape4 = nchw ? [a.inputShape[0], a.inputShape[2], a.inputShape[3], a.inputShape[1]] : a.inputShape;
  const dy = toNhwc(a.dy, a.dataFormat);
  const [sh, sw] = pair(a.strides);
  const [dh, dw] = pair(a.dilations);
  const [kh, kw] = a.filter.shape;
  const info = convInfo(xShape, a.filter.shape, [sh, sw], [dh, dw], a.pad, a.dimRoundingMode, false);
  const [, H, W] = xShape;
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && info.padInfo.top === 0 && info.padInfo.left === 0 && info.outHeight === H && info.outWidth === W) {
    // A 1x1 stride-1 convolution is a matMul: dx = dy . W^T (an explicit transpose: wasm's transposeB is 5x slower).
    const [b, , , co] = dy.shape;
    const ci = xShape[3];
    const dx = reshape(matMul(reshape(dy, [b * H * W, co]), transpose(reshape(a.filter, [ci, co]))), xShape) as Tensor4D;
    return nchw ? transpose(dx, [0, 3, 1, 2]) : dx;
  }
  const d = dilateSpatial(dy, sh, sw);
  const kEh = (kh - 1) * dh + 1;
  const kEw = (kw - 1) * dw + 1;
  const top = kEh - 1 - info.padInfo.top;
  const left = kEw - 1 - info.padInfo.left;
  const bottom = H - d.shape[1] - top + kEh - 1;
  const right = W - d.shape[2] - left + kEw - 1;
  const f = transpose(reverse(a.filter, [0, 1]), [0, 1, 3, 2]);
  const ep = explicitPad(top, bottom, left, right);
  const dx = ep ? conv2d(d, f, 1, ep, 'NHWC', [dh, dw]) : conv2d(padOrCrop(d, top, bottom, left, right), f, 1, 'valid', 'NHWC', [dh, dw]);
  return nchw ? transpose(dx, [0, 3, 1, 2]) : dx;
}

export interface DepthwiseBackpropFilterArgs {
  x: Tensor4D;
  dy: Tensor4D;
  filterShape: Shape4;
  strides: number | [number, number];
  dilations: number | [number, number];
  pad: PadArg;
  dimRoundingMode?: RoundingMode;
}

/**
 * dW[i, j, c, q] as one depthwise convolution: x with (batch, channel) folded into the channel axis
 * [1, H, W, b*c], filtered by dy folded the same way [oh, ow, b*c, m]; the forward stride becomes the dilation.
 * The per-batch partial filters are then summed. Much faster than per-tap slices where the backend's
 * depthwise convolution is optimized (wasm/XNNPACK).
 */
export function depthwiseBackpropFilterViaConv(a: DepthwiseBackpropFilterArgs): Tensor4D {
  const [sh, sw] = pair(a.strides);
  const [dh, dw] = pair(a.dilations);
  const [kh, kw, c, m] = a.filterShape;
  const info = convInfo(a.x.shape, a.filterShape, [sh, sw], [dh, dw], a.pad, a.dimRoundingMode, true);
  const [b, oh, ow] = a.dy.shape;
  const H = a.x.shape[1];
  const W = a.x.shape[2];
  const needH = (kh - 1) * dh + (oh - 1) * sh + 1;
  const needW = (kw - 1) * dw + (ow - 1) * sw + 1;
  const xp = padOrCrop(a.x, info.padInfo.top, needH - H - info.padInfo.top, info.padInfo.left, needW - W - info.padInfo.left);
  const xT = reshape(transpose(xp, [1, 2, 0, 3]), [1, needH, needW, b * c]) as Tensor4D;
  const f = reshape(transpose(reshape(a.dy, [b, oh, ow, c, m]), [1, 2, 0, 3, 4]), [oh, ow, b * c, m]) as Tensor4D;
  const out = depthwiseConv2d(xT, f, [dh, dw], 'valid', 'NHWC', [sh, sw]); // [1, kh, kw, b*c*m]
  return sum(reshape(out, [kh, kw, b, c, m]), 2) as Tensor4D;
}

/** dW[i, j, c, q] = sum_{b, y, x} xPadded[b, y*s + i*d, x*s + j*d, c] * dy[b, y, x, c*m + q]: one multiply-reduce per tap. */
export function depthwiseBackpropFilter(a: DepthwiseBackpropFilterArgs): Tensor4D {
  const [sh, sw] = pair(a.strides);
  const [dh, dw] = pair(a.dilations);
  const [kh, kw, c, m] = a.filterShape;
  const info = convInfo(a.x.shape, a.filterShape, [sh, sw], [dh, dw], a.pad, a.dimRoundingMode, true);
  const [b, oh, ow] = a.dy.shape;
  const H = a.x.shape[1];
  const W = a.x.shape[2];
  const needH = (kh - 1) * dh + (oh - 1) * sh + 1;
  const needW = (kw - 1) * dw + (ow - 1) * sw + 1;
  const xp = padOrCrop(a.x, info.padInfo.top, needH - H - info.padInfo.top, info.padInfo.left, needW - W - info.padInfo.left);
  const dy5 = m === 1 ? a.dy : reshape(a.dy, [b, oh, ow, c, m]);
  const taps: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const patch = stridedSlice(xp, [0, i * dh, j * dw, 0], [b, i * dh + (oh - 1) * sh + 1, j * dw + (ow - 1) * sw + 1, c], [1, sh, sw, 1]);
      const p = m === 1 ? patch : reshape(patch, [b, oh, ow, c, 1]);
      taps.push(reshape(sum(mul(p, dy5), [0, 1, 2]), [c, m]));
    }
  }
  return reshape(stack(taps, 0), [kh, kw, c, m]);
}

export interface DepthwiseBackpropInputArgs {
  dy: Tensor4D;
  filter: Tensor4D;
  inputShape: Shape4;
  strides: number | [number, number];
  dilations: number | [number, number];
  pad: PadArg;
  dimRoundingMode?: RoundingMode;
}

/** dx = depthwise convolution of the zero-stuffed dy with the flipped filter, summed over the channel multiplier. */
export function depthwiseBackpropInput(a: DepthwiseBackpropInputArgs): Tensor4D {
  const [sh, sw] = pair(a.strides);
  const [dh, dw] = pair(a.dilations);
  const [kh, kw, c, m] = a.filter.shape;
  const info = convInfo(a.inputShape, a.filter.shape, [sh, sw], [dh, dw], a.pad, a.dimRoundingMode, true);
  const [b, H, W] = a.inputShape;
  const [, oh, ow] = a.dy.shape;
  const kEh = (kh - 1) * dh + 1;
  const kEw = (kw - 1) * dw + 1;
  const flipped = reverse(a.filter, [0, 1]);
  let total: Tensor4D | null = null;
  const dy5 = m === 1 ? null : reshape(a.dy, [b, oh, ow, c, m]);
  for (let q = 0; q < m; q++) {
    const dyq = dy5 === null ? a.dy : (reshape(slice(dy5, [0, 0, 0, 0, q], [b, oh, ow, c, 1]), [b, oh, ow, c]) as Tensor4D);
    const fq = m === 1 ? flipped : (slice(flipped, [0, 0, 0, q], [kh, kw, c, 1]) as Tensor4D);
    const d = dilateSpatial(dyq, sh, sw);
    const top = kEh - 1 - info.padInfo.top;
    const left = kEw - 1 - info.padInfo.left;
    const bottom = H - d.shape[1] - top + kEh - 1;
    const right = W - d.shape[2] - left + kEw - 1;
    const ep = explicitPad(top, bottom, left, right);
    const part = ep ? depthwiseConv2d(d, fq, 1, ep, 'NHWC', [dh, dw]) : depthwiseConv2d(padOrCrop(d, top, bottom, left, right), fq, 1, 'valid', 'NHWC', [dh, dw]);
    total = total === null ? part : (add(total, part) as Tensor4D);
  }
  return total as Tensor4D;
}
