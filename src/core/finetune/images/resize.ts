// tf.image.resize(float32 image, (H, W)) with the default method: TensorFlow's ResizeBilinear kernel with
// half_pixel_centers=True, align_corners=False, no antialiasing, no rounding. Every step is float32 arithmetic
// in TensorFlow's order (Math.fround after each operation), so the result matches TensorFlow's to the bit
// on the fixtures (test/unit/finetune/images.test.ts).
const f = Math.fround;

interface Weights {
  lower: Int32Array;
  upper: Int32Array;
  lerp: Float32Array;
}

function weights(outSize: number, inSize: number): Weights {
  const scale = f(inSize / outSize);
  const lower = new Int32Array(outSize), upper = new Int32Array(outSize), lerp = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const at = f(f(f(i + 0.5) * scale) - 0.5); // HalfPixelScaler
    const fl = Math.floor(at);
    lower[i] = Math.max(fl, 0);
    upper[i] = Math.min(Math.ceil(at), inSize - 1);
    lerp[i] = f(at - fl);
  }
  return { lower, upper, lerp };
}

/** Bilinear resize of an (h, w, c) image to (outH, outW, c), float32 output. */
export function resizeBilinear(src: ArrayLike<number>, h: number, w: number, c: number, outH: number, outW: number): Float32Array {
  const out = new Float32Array(outH * outW * c);
  const ys = weights(outH, h);
  const xs = weights(outW, w);
  for (let y = 0; y < outH; y++) {
    const top = ys.lower[y]! * w * c, bottom = ys.upper[y]! * w * c, yl = ys.lerp[y]!;
    for (let x = 0; x < outW; x++) {
      const left = xs.lower[x]! * c, right = xs.upper[x]! * c, xl = xs.lerp[x]!;
      for (let k = 0; k < c; k++) {
        const tl = src[top + left + k]!, tr = src[top + right + k]!;
        const bl = src[bottom + left + k]!, br = src[bottom + right + k]!;
        const t = f(tl + f(f(tr - tl) * xl));
        const b = f(bl + f(f(br - bl) * xl));
        out[(y * outW + x) * c + k] = f(t + f(f(b - t) * yl));
      }
    }
  }
  return out;
}
