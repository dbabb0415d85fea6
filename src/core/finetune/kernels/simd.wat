;; SIMD loops for the engine's kernels (channel-kernels.ts, depthwise-js.ts, conv-filter-simd.ts, wasm-overrides.ts), run on
;; the tfjs wasm backend's own memory (imported). esbuild.mjs assembles this file into dist/fi-simd.wasm; simd.ts loads it.
;;
;; Channels-last tensors whose channel count is a multiple of 4: a pixel is `c4` vectors of 4 floats
;; (row = c4 * 16 bytes). Every pointer is a byte offset in the shared memory. Per-channel arrays (scale, shift,
;; accumulators) hold c4 * 4 floats. The module has no data segments and no memory of its own: it only reads
;; and writes where the caller points it.
(module
  (import "env" "memory" (memory 1))

  ;; out[p, j] = a[p, j] * s[j] + h[j]
  (func (export "map1") (param $out i32) (param $a i32) (param $s i32) (param $h i32) (param $pixels i32) (param $c4 i32)
    (local $row i32) (local $k i32) (local $end i32)
    (local.set $row (i32.shl (local.get $c4) (i32.const 4)))
    (local.set $end (i32.add (local.get $a) (i32.mul (local.get $pixels) (local.get $row))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $k (i32.const 0))
        (block $kdone
          (loop $chan
            (br_if $kdone (i32.ge_u (local.get $k) (local.get $row)))
            (v128.store (i32.add (local.get $out) (local.get $k))
              (f32x4.add
                (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $k))) (v128.load (i32.add (local.get $s) (local.get $k))))
                (v128.load (i32.add (local.get $h) (local.get $k)))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $chan)))
        (local.set $out (i32.add (local.get $out) (local.get $row)))
        (local.set $a (i32.add (local.get $a) (local.get $row)))
        (br $pixel))))

  ;; out[p, j] = a[p, j] + h[j]   (a bias add)
  (func (export "addrow") (param $out i32) (param $a i32) (param $h i32) (param $pixels i32) (param $c4 i32)
    (local $row i32) (local $k i32) (local $end i32)
    (local.set $row (i32.shl (local.get $c4) (i32.const 4)))
    (local.set $end (i32.add (local.get $a) (i32.mul (local.get $pixels) (local.get $row))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $k (i32.const 0))
        (block $kdone
          (loop $chan
            (br_if $kdone (i32.ge_u (local.get $k) (local.get $row)))
            (v128.store (i32.add (local.get $out) (local.get $k))
              (f32x4.add (v128.load (i32.add (local.get $a) (local.get $k))) (v128.load (i32.add (local.get $h) (local.get $k)))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $chan)))
        (local.set $out (i32.add (local.get $out) (local.get $row)))
        (local.set $a (i32.add (local.get $a) (local.get $row)))
        (br $pixel))))

  ;; out[p, j] = a[p, j] * s[j] + b[p, j] * u[j] + h[j]
  (func (export "map2") (param $out i32) (param $a i32) (param $b i32) (param $s i32) (param $u i32) (param $h i32) (param $pixels i32) (param $c4 i32)
    (local $row i32) (local $k i32) (local $end i32)
    (local.set $row (i32.shl (local.get $c4) (i32.const 4)))
    (local.set $end (i32.add (local.get $a) (i32.mul (local.get $pixels) (local.get $row))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $k (i32.const 0))
        (block $kdone
          (loop $chan
            (br_if $kdone (i32.ge_u (local.get $k) (local.get $row)))
            (v128.store (i32.add (local.get $out) (local.get $k))
              (f32x4.add
                (f32x4.add
                  (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $k))) (v128.load (i32.add (local.get $s) (local.get $k))))
                  (f32x4.mul (v128.load (i32.add (local.get $b) (local.get $k))) (v128.load (i32.add (local.get $u) (local.get $k)))))
                (v128.load (i32.add (local.get $h) (local.get $k)))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $chan)))
        (local.set $out (i32.add (local.get $out) (local.get $row)))
        (local.set $a (i32.add (local.get $a) (local.get $row)))
        (local.set $b (i32.add (local.get $b) (local.get $row)))
        (br $pixel))))

  ;; With d = x[p, j] - k[j]: s1[j] += d, s2[j] += d * d   (the caller zeroes s1, s2 and takes short blocks)
  (func (export "moments") (param $x i32) (param $kk i32) (param $pixels i32) (param $c4 i32) (param $s1 i32) (param $s2 i32)
    (local $row i32) (local $k i32) (local $end i32) (local $d v128)
    (local.set $row (i32.shl (local.get $c4) (i32.const 4)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $pixels) (local.get $row))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $k (i32.const 0))
        (block $kdone
          (loop $chan
            (br_if $kdone (i32.ge_u (local.get $k) (local.get $row)))
            (local.set $d (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $k))) (v128.load (i32.add (local.get $kk) (local.get $k)))))
            (v128.store (i32.add (local.get $s1) (local.get $k))
              (f32x4.add (v128.load (i32.add (local.get $s1) (local.get $k))) (local.get $d)))
            (v128.store (i32.add (local.get $s2) (local.get $k))
              (f32x4.add (v128.load (i32.add (local.get $s2) (local.get $k))) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $chan)))
        (local.set $x (i32.add (local.get $x) (local.get $row)))
        (br $pixel))))

  ;; s1[j] += a[p, j], s2[j] += a[p, j] * (b[p, j] - m[j])   (BatchNorm gradient sums; zeroed by the caller)
  (func (export "reduce2") (param $a i32) (param $b i32) (param $m i32) (param $pixels i32) (param $c4 i32) (param $s1 i32) (param $s2 i32)
    (local $row i32) (local $k i32) (local $end i32) (local $va v128)
    (local.set $row (i32.shl (local.get $c4) (i32.const 4)))
    (local.set $end (i32.add (local.get $a) (i32.mul (local.get $pixels) (local.get $row))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $k (i32.const 0))
        (block $kdone
          (loop $chan
            (br_if $kdone (i32.ge_u (local.get $k) (local.get $row)))
            (local.set $va (v128.load (i32.add (local.get $a) (local.get $k))))
            (v128.store (i32.add (local.get $s1) (local.get $k))
              (f32x4.add (v128.load (i32.add (local.get $s1) (local.get $k))) (local.get $va)))
            (v128.store (i32.add (local.get $s2) (local.get $k))
              (f32x4.add (v128.load (i32.add (local.get $s2) (local.get $k)))
                (f32x4.mul (local.get $va)
                  (f32x4.sub (v128.load (i32.add (local.get $b) (local.get $k))) (v128.load (i32.add (local.get $m) (local.get $k)))))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $chan)))
        (local.set $a (i32.add (local.get $a) (local.get $row)))
        (local.set $b (i32.add (local.get $b) (local.get $row)))
        (br $pixel))))

  ;; acc[j] += sum over i < count of x[i * xStep + j] * dy[i * row + j]   (xStep in bytes; depthwise filter gradient row)
  (func (export "rowdot") (param $x i32) (param $xStep i32) (param $dy i32) (param $count i32) (param $c4 i32) (param $acc i32)
    (local $row i32) (local $k i32) (local $i i32) (local $xp i32) (local $dp i32) (local $v v128)
    (local.set $row (i32.shl (local.get $c4) (i32.const 4)))
    (block $kdone
      (loop $chan
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $row)))
        (local.set $v (v128.const i32x4 0 0 0 0))
        (local.set $xp (i32.add (local.get $x) (local.get $k)))
        (local.set $dp (i32.add (local.get $dy) (local.get $k)))
        (local.set $i (i32.const 0))
        (block $idone
          (loop $pix
            (br_if $idone (i32.ge_u (local.get $i) (local.get $count)))
            (local.set $v (f32x4.add (local.get $v) (f32x4.mul (v128.load (local.get $xp)) (v128.load (local.get $dp)))))
            (local.set $xp (i32.add (local.get $xp) (local.get $xStep)))
            (local.set $dp (i32.add (local.get $dp) (local.get $row)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $pix)))
        (v128.store (i32.add (local.get $acc) (local.get $k))
          (f32x4.add (v128.load (i32.add (local.get $acc) (local.get $k))) (local.get $v)))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $chan))))

  ;; dx[i * xStep + j] += dy[i * row + j] * f[j] for i < count   (strided depthwise input gradient row)
  (func (export "rowaxpy") (param $dx i32) (param $xStep i32) (param $dy i32) (param $f i32) (param $count i32) (param $c4 i32)
    (local $row i32) (local $k i32) (local $i i32) (local $xp i32) (local $dp i32) (local $vf v128)
    (local.set $row (i32.shl (local.get $c4) (i32.const 4)))
    (block $kdone
      (loop $chan
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $row)))
        (local.set $vf (v128.load (i32.add (local.get $f) (local.get $k))))
        (local.set $xp (i32.add (local.get $dx) (local.get $k)))
        (local.set $dp (i32.add (local.get $dy) (local.get $k)))
        (local.set $i (i32.const 0))
        (block $idone
          (loop $pix
            (br_if $idone (i32.ge_u (local.get $i) (local.get $count)))
            (v128.store (local.get $xp)
              (f32x4.add (v128.load (local.get $xp)) (f32x4.mul (v128.load (local.get $dp)) (local.get $vf))))
            (local.set $xp (i32.add (local.get $xp) (local.get $xStep)))
            (local.set $dp (i32.add (local.get $dp) (local.get $row)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $pix)))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $chan))))
  ;; out[j] += x[p, j] for p < pixels, one float32 add per pixel in pixel order (a channel's lane is
  ;; summed exactly like a sequential float32 loop, so results match tfjs's Sum and channelSum32 bit for bit)
  (func (export "colsum") (param $x i32) (param $pixels i32) (param $c4 i32) (param $out i32)
    (local $row i32) (local $k i32) (local $xp i32) (local $end i32) (local $v v128)
    (local.set $row (i32.shl (local.get $c4) (i32.const 4)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $pixels) (local.get $row))))
    (block $kdone
      (loop $chan
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $row)))
        (local.set $v (v128.load (i32.add (local.get $out) (local.get $k))))
        (local.set $xp (i32.add (local.get $x) (local.get $k)))
        (block $pdone
          (loop $pix
            (br_if $pdone (i32.ge_u (local.get $xp) (local.get $end)))
            (local.set $v (f32x4.add (local.get $v) (v128.load (local.get $xp))))
            (local.set $xp (i32.add (local.get $xp) (local.get $row)))
            (br $pix)))
        (v128.store (i32.add (local.get $out) (local.get $k)) (local.get $v))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $chan))))
  ;; out[r * outStride + j] += sum over p < count of a[p * aStride + r] * b[p * bStride + j]
  ;; for r < rows (at most 4) and j < c4 * 4 (c4 even): the filter gradient of a convolution, dF = x^T . dy, read
  ;; straight from the activations (no transpose, no packing). Strides are in bytes. Four rows of `a` are always
  ;; read (the caller makes sure they lie inside the memory); rows >= `rows` are computed and dropped.
  (func $atb (export "atb") (param $a i32) (param $aStride i32) (param $b i32) (param $bStride i32) (param $count i32) (param $rows i32) (param $c4 i32) (param $out i32) (param $outStride i32)
    (local $row i32) (local $jb i32) (local $ap i32) (local $bp i32) (local $end i32) (local $o i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $row (i32.shl (local.get $c4) (i32.const 4)))
    (local.set $end (i32.add (local.get $a) (i32.mul (local.get $count) (local.get $aStride))))
    (block $jdone
      (loop $jloop
        (br_if $jdone (i32.ge_u (local.get $jb) (local.get $row)))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0))
        (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c20 (v128.const i32x4 0 0 0 0))
        (local.set $c21 (v128.const i32x4 0 0 0 0))
        (local.set $c30 (v128.const i32x4 0 0 0 0))
        (local.set $c31 (v128.const i32x4 0 0 0 0))
        (local.set $ap (local.get $a))
        (local.set $bp (i32.add (local.get $b) (local.get $jb)))
        (block $pdone
          (loop $ploop
            (br_if $pdone (i32.ge_u (local.get $ap) (local.get $end)))
            (local.set $b0 (v128.load (local.get $bp)))
            (local.set $b1 (v128.load offset=16 (local.get $bp)))
            (local.set $x0 (f32x4.splat (f32.load offset=0 (local.get $ap))))
            (local.set $x1 (f32x4.splat (f32.load offset=4 (local.get $ap))))
            (local.set $x2 (f32x4.splat (f32.load offset=8 (local.get $ap))))
            (local.set $x3 (f32x4.splat (f32.load offset=12 (local.get $ap))))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x0) (local.get $b0))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x0) (local.get $b1))))
            (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x1) (local.get $b0))))
            (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x1) (local.get $b1))))
            (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x2) (local.get $b0))))
            (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x2) (local.get $b1))))
            (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x3) (local.get $b0))))
            (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x3) (local.get $b1))))
            (local.set $ap (i32.add (local.get $ap) (local.get $aStride)))
            (local.set $bp (i32.add (local.get $bp) (local.get $bStride)))
            (br $ploop)))
        ;; row r of the output block at out + jb + r * outStride
        (local.set $o (i32.add (local.get $out) (local.get $jb)))
        (if (i32.gt_u (local.get $rows) (i32.const 0))
          (then
            (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (local.get $c00)))
            (v128.store offset=16 (local.get $o) (f32x4.add (v128.load offset=16 (local.get $o)) (local.get $c01)))))
        (local.set $o (i32.add (local.get $o) (local.get $outStride)))
        (if (i32.gt_u (local.get $rows) (i32.const 1))
          (then
            (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (local.get $c10)))
            (v128.store offset=16 (local.get $o) (f32x4.add (v128.load offset=16 (local.get $o)) (local.get $c11)))))
        (local.set $o (i32.add (local.get $o) (local.get $outStride)))
        (if (i32.gt_u (local.get $rows) (i32.const 2))
          (then
            (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (local.get $c20)))
            (v128.store offset=16 (local.get $o) (f32x4.add (v128.load offset=16 (local.get $o)) (local.get $c21)))))
        (local.set $o (i32.add (local.get $o) (local.get $outStride)))
        (if (i32.gt_u (local.get $rows) (i32.const 3))
          (then
            (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (local.get $c30)))
            (v128.store offset=16 (local.get $o) (f32x4.add (v128.load offset=16 (local.get $o)) (local.get $c31)))))
        (local.set $jb (i32.add (local.get $jb) (i32.const 32)))
        (br $jloop))))
  ;; atb over a table of segments, for filters larger than 1x1: segment s is five i32 at seg + 20 * s,
  ;; (a, aStride, b, count, tap): `count` pixels of x from byte a (aStride apart) against `count` consecutive
  ;; pixels of dy from byte b, accumulated into the filter tap whose rows start at byte out + tap. Every group of
  ;; four input channels is one atb call; dy rows are c4 * 16 bytes, as are the filter's rows.
  (func (export "atbseg") (param $seg i32) (param $nseg i32) (param $ci i32) (param $c4 i32) (param $out i32)
    (local $end i32) (local $r0 i32) (local $row i32) (local $a i32) (local $aStride i32) (local $b i32) (local $count i32) (local $tap i32) (local $rows i32)
    (local.set $row (i32.shl (local.get $c4) (i32.const 4)))
    (local.set $end (i32.add (local.get $seg) (i32.mul (local.get $nseg) (i32.const 20))))
    (block $done
      (loop $segs
        (br_if $done (i32.ge_u (local.get $seg) (local.get $end)))
        (local.set $a (i32.load offset=0 (local.get $seg)))
        (local.set $aStride (i32.load offset=4 (local.get $seg)))
        (local.set $b (i32.load offset=8 (local.get $seg)))
        (local.set $count (i32.load offset=12 (local.get $seg)))
        (local.set $tap (i32.add (local.get $out) (i32.load offset=16 (local.get $seg))))
        (local.set $r0 (i32.const 0))
        (block $rdone
          (loop $rblocks
            (br_if $rdone (i32.ge_u (local.get $r0) (local.get $ci)))
            (local.set $rows (i32.sub (local.get $ci) (local.get $r0)))
            (if (i32.gt_u (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
            (call $atb
              (i32.add (local.get $a) (i32.shl (local.get $r0) (i32.const 2))) (local.get $aStride)
              (local.get $b) (local.get $row) (local.get $count) (local.get $rows) (local.get $c4)
              (i32.add (local.get $tap) (i32.mul (local.get $r0) (local.get $row))) (local.get $row))
            (local.set $r0 (i32.add (local.get $r0) (i32.const 4)))
            (br $rblocks)))
        (local.set $seg (i32.add (local.get $seg) (i32.const 20)))
        (br $segs))))
  ;; out[r * outStride + j] += sum over q < k of a[r * aStride + q] * b[q * bStride + j]
  ;; for r < rows (at most 4) and j < c4 * 4 (c4 even): a product of up to four rows of `a` (pixels) with `b`
  ;; (a k x c4*4 matrix), accumulated into `out`. Strides are in bytes. Rows >= `rows` re-read row 0 and are dropped.
  (func $gemm (export "gemm") (param $a i32) (param $aStride i32) (param $b i32) (param $bStride i32) (param $k i32) (param $rows i32) (param $c4 i32) (param $out i32) (param $outStride i32)
    (local $row i32) (local $jb i32) (local $q i32) (local $bp i32) (local $o i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $row (i32.shl (local.get $c4) (i32.const 4)))
    (block $jdone
      (loop $jloop
        (br_if $jdone (i32.ge_u (local.get $jb) (local.get $row)))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0))
        (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c20 (v128.const i32x4 0 0 0 0))
        (local.set $c21 (v128.const i32x4 0 0 0 0))
        (local.set $c30 (v128.const i32x4 0 0 0 0))
        (local.set $c31 (v128.const i32x4 0 0 0 0))
        (local.set $a0 (local.get $a))
        (local.set $a1 (select (i32.add (local.get $a) (local.get $aStride)) (local.get $a) (i32.gt_u (local.get $rows) (i32.const 1))))
        (local.set $a2 (select (i32.add (local.get $a) (i32.shl (local.get $aStride) (i32.const 1))) (local.get $a) (i32.gt_u (local.get $rows) (i32.const 2))))
        (local.set $a3 (select (i32.add (local.get $a) (i32.mul (local.get $aStride) (i32.const 3))) (local.get $a) (i32.gt_u (local.get $rows) (i32.const 3))))
        (local.set $bp (i32.add (local.get $b) (local.get $jb)))
        (local.set $q (i32.const 0))
        (block $qdone
          (loop $qloop
            (br_if $qdone (i32.ge_u (local.get $q) (local.get $k)))
            (local.set $b0 (v128.load (local.get $bp)))
            (local.set $b1 (v128.load offset=16 (local.get $bp)))
            (local.set $x0 (f32x4.splat (f32.load (local.get $a0))))
            (local.set $x1 (f32x4.splat (f32.load (local.get $a1))))
            (local.set $x2 (f32x4.splat (f32.load (local.get $a2))))
            (local.set $x3 (f32x4.splat (f32.load (local.get $a3))))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x0) (local.get $b0))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x0) (local.get $b1))))
            (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x1) (local.get $b0))))
            (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x1) (local.get $b1))))
            (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x2) (local.get $b0))))
            (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x2) (local.get $b1))))
            (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x3) (local.get $b0))))
            (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x3) (local.get $b1))))
            (local.set $a0 (i32.add (local.get $a0) (i32.const 4)))
            (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
            (local.set $a2 (i32.add (local.get $a2) (i32.const 4)))
            (local.set $a3 (i32.add (local.get $a3) (i32.const 4)))
            (local.set $bp (i32.add (local.get $bp) (local.get $bStride)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $qloop)))
        ;; row r of the output block at out + jb + r * outStride
        (local.set $o (i32.add (local.get $out) (local.get $jb)))
        (if (i32.gt_u (local.get $rows) (i32.const 0))
          (then
            (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (local.get $c00)))
            (v128.store offset=16 (local.get $o) (f32x4.add (v128.load offset=16 (local.get $o)) (local.get $c01)))))
        (local.set $o (i32.add (local.get $o) (local.get $outStride)))
        (if (i32.gt_u (local.get $rows) (i32.const 1))
          (then
            (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (local.get $c10)))
            (v128.store offset=16 (local.get $o) (f32x4.add (v128.load offset=16 (local.get $o)) (local.get $c11)))))
        (local.set $o (i32.add (local.get $o) (local.get $outStride)))
        (if (i32.gt_u (local.get $rows) (i32.const 2))
          (then
            (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (local.get $c20)))
            (v128.store offset=16 (local.get $o) (f32x4.add (v128.load offset=16 (local.get $o)) (local.get $c21)))))
        (local.set $o (i32.add (local.get $o) (local.get $outStride)))
        (if (i32.gt_u (local.get $rows) (i32.const 3))
          (then
            (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (local.get $c30)))
            (v128.store offset=16 (local.get $o) (f32x4.add (v128.load offset=16 (local.get $o)) (local.get $c31)))))
        (local.set $jb (i32.add (local.get $jb) (i32.const 32)))
        (br $jloop))))

  ;; The input gradient of a convolution over a table of segments: segment s is five i32 at seg + 20 * s,
  ;; (dx, dxStep, dy, count, tap). For `count` consecutive dy pixels from byte dy (k output channels each) and as
  ;; many dx pixels from byte dx (dxStep bytes apart): dx pixel += dy pixel . wt[tap], where the k x (c4 * 4)
  ;; matrix at byte wt + tap is the tap's filter transposed. Four pixels at a time.
  (func (export "gemmseg") (param $seg i32) (param $nseg i32) (param $k i32) (param $c4 i32) (param $wt i32)
    (local $end i32) (local $dx i32) (local $dxStep i32) (local $dy i32) (local $count i32) (local $w i32) (local $p i32) (local $rows i32) (local $kBytes i32)
    (local.set $kBytes (i32.shl (local.get $k) (i32.const 2)))
    (local.set $end (i32.add (local.get $seg) (i32.mul (local.get $nseg) (i32.const 20))))
    (block $done
      (loop $segs
        (br_if $done (i32.ge_u (local.get $seg) (local.get $end)))
        (local.set $dx (i32.load offset=0 (local.get $seg)))
        (local.set $dxStep (i32.load offset=4 (local.get $seg)))
        (local.set $dy (i32.load offset=8 (local.get $seg)))
        (local.set $count (i32.load offset=12 (local.get $seg)))
        (local.set $w (i32.add (local.get $wt) (i32.load offset=16 (local.get $seg))))
        (local.set $p (i32.const 0))
        (block $pdone
          (loop $pblocks
            (br_if $pdone (i32.ge_u (local.get $p) (local.get $count)))
            (local.set $rows (i32.sub (local.get $count) (local.get $p)))
            (if (i32.gt_u (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
            (call $gemm
              (i32.add (local.get $dy) (i32.mul (local.get $p) (local.get $kBytes))) (local.get $kBytes)
              (local.get $w) (i32.shl (local.get $c4) (i32.const 4)) (local.get $k) (local.get $rows) (local.get $c4)
              (i32.add (local.get $dx) (i32.mul (local.get $p) (local.get $dxStep))) (local.get $dxStep))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $pblocks)))
        (local.set $seg (i32.add (local.get $seg) (i32.const 20)))
        (br $segs))))

  ;; out[i] = max(x[i], 0) for i < n4 * 4
  (func (export "relu") (param $out i32) (param $x i32) (param $n4 i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n4) (i32.const 4))))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store (local.get $out) (f32x4.pmax (v128.load (local.get $x)) (v128.const f32x4 0 0 0 0)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $vec))))
  ;; out[i] = x[i] > 0 ? dy[i] : 0 for i < n4 * 4   (the ReLU gradient in one pass)
  (func (export "relugrad") (param $out i32) (param $dy i32) (param $x i32) (param $n4 i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n4) (i32.const 4))))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store (local.get $out)
          (v128.and (v128.load (local.get $dy))
            (f32x4.gt (v128.load (local.get $x)) (v128.const f32x4 0 0 0 0))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $vec))))
)
