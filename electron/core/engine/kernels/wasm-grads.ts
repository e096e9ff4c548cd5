// Our own gradient kernels for the tfjs-wasm backend (issue #6). tfjs-wasm has fast forward
// convolutions and matMuls (XNNPACK, SIMD) but no Conv2DBackpropFilter and no depthwise
// gradients, and its Conv2DBackpropInput is a plain loop. Each kernel here is built only from
// the backend's own fast kernels, on its own memory (no copies to tfjs-cpu):
//
//   Conv2DBackpropFilter                 one matMul per filter tap: dW[ky,kx] = patch(ky,kx)ᵀ · dy
//                                        (a 1×1 stride-1 convolution is a single matMul)
//   Conv2DBackpropInput                  1×1 stride 1: dx = dy · Wᵀ (one matMul); otherwise the
//                                        forward Conv2D of the stride-dilated, padded dy with the
//                                        filter rotated 180° and its channels swapped
//   DepthwiseConv2dNativeBackpropFilter  sums of shifted products: per tap, patch(ky,kx) ⊙ dy,
//                                        summed over batch and space by a matMul with ones
//   DepthwiseConv2dNativeBackpropInput   the forward depthwise convolution of the dilated,
//                                        padded dy with the filter rotated 180°
//
// A shape these do not cover (channel multiplier > 1, NCHW) goes to the cpu delegate
// (wasm-delegate.ts), which records that the slow path ran, so a run and the UI can name it.
import * as tf from '@tensorflow/tfjs';
import { NATIVE_MIN_MACS, nativeGemm, type NativeGemm } from './native-gemm.js';

type Info = tf.TensorInfo;
type KernelFunc = tf.KernelFunc;
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

interface WasmBackend {
  disposeData(dataId: unknown, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): tf.backend_util.TypedArray;
}

/** The kernels this module registers on 'wasm', in the order it registers them. */
export const WASM_GRADIENT_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'] as const;

/** Stock wasm kernels we build on, captured before we register anything. */
interface Ops {
  run(name: string, inputs: Record<string, Info>, attrs?: Record<string, unknown>): Info;
  dispose(...infos: Info[]): void;
  /** A new float32 tensor in wasm memory (contents undefined). */
  alloc(shape: number[], dtype?: tf.DataType): Info;
  /** The tensor's memory. Take views after allocating: growing wasm memory detaches older ones. */
  view(info: Info): Float32Array;
  /** Like view, for any numeric dtype. */
  heap(info: Info): tf.backend_util.TypedArray;
  /** ONNX Runtime's matMul for big products, when it runs here (see native-gemm.ts). */
  native: NativeGemm | null;
}

function opsFor(backend: tf.KernelBackend, stock: Map<string, KernelFunc>, native: NativeGemm | null): Ops {
  const b = backend as unknown as WasmBackend;
  return {
    run(name, inputs, attrs = {}) {
      const f = stock.get(name);
      if (!f) throw new Error(`The wasm backend has no ${name} kernel.`);
      return f({ inputs, attrs: attrs as tf.NamedAttrMap, backend }) as Info;
    },
    dispose(...infos) {
      for (const i of infos) b.disposeData(i.dataId);
    },
    alloc: (shape, dtype = 'float32') => b.makeOutput(shape, dtype),
    view: (info) => b.typedArrayFromHeap(info) as Float32Array,
    heap: (info) => b.typedArrayFromHeap(info),
    native,
  };
}

const reshape = (o: Ops, x: Info, shape: number[]) => o.run('Reshape', { x }, { shape });
// Concat takes its inputs as a list, not a map.
const concat = (o: Ops, parts: Info[], axis: number) => o.run('Concat', parts as unknown as Record<string, Info>, { axis });

/** Zero-pads the spatial dims of an NHWC tensor (negative amounts crop). Returns x itself when nothing changes. */
function padSpatial(o: Ops, x: Info, top: number, bottom: number, left: number, right: number): Info {
  let cur = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const t = Math.max(0, -top);
    const l = Math.max(0, -left);
    const size = [n, h - t - Math.max(0, -bottom), w - l - Math.max(0, -right), c];
    cur = o.run('Slice', { x }, { begin: [0, t, l, 0], size });
  }
  const [pt, pb, pl, pr] = [top, bottom, left, right].map((v) => Math.max(0, v)) as [number, number, number, number];
  if (pt + pb + pl + pr === 0) return cur;
  const out = o.run('PadV2', { x: cur }, { paddings: [[0, 0], [pt, pb], [pl, pr], [0, 0]], constantValue: 0 });
  if (cur !== x) o.dispose(cur);
  return out;
}

/** The [N, Ho, Wo, C] window of padded x that filter tap (ky, kx) sees. */
function tap(o: Ops, xp: Info, ky: number, kx: number, info: tf.backend_util.Conv2DInfo): Info {
  const { outHeight, outWidth, strideHeight, strideWidth } = info;
  const [n, , , c] = xp.shape as [number, number, number, number];
  const y0 = ky * info.dilationHeight;
  const x0 = kx * info.dilationWidth;
  return o.run(
    'StridedSlice',
    { x: xp },
    {
      begin: [0, y0, x0, 0],
      end: [n, y0 + (outHeight - 1) * strideHeight + 1, x0 + (outWidth - 1) * strideWidth + 1, c],
      strides: [1, strideHeight, strideWidth, 1],
      beginMask: 0,
      endMask: 0,
      ellipsisMask: 0,
      newAxisMask: 0,
      shrinkAxisMask: 0,
    },
  );
}

/** Inserts (s-1) zeros after every row/column of dy (the transpose of a strided read). */
function dilate(o: Ops, dy: Info, sh: number, sw: number): Info {
  if (sh === 1 && sw === 1) return dy;
  const [n, h, w, c] = dy.shape as [number, number, number, number];
  const r6 = reshape(o, dy, [n, h, 1, w, 1, c]);
  const p6 = o.run('PadV2', { x: r6 }, { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 });
  const out = reshape(o, p6, [n, h * sh, w * sw, c]);
  o.dispose(r6, p6);
  return out;
}

/**
 * dy dilated by the stride and padded so that a stride-1 'valid' convolution with the rotated
 * filter gives exactly the input's height and width: the "full" convolution of backprop.
 */
function fullPadded(o: Ops, dy: Info, info: tf.backend_util.Conv2DInfo): Info {
  const d = dilate(o, dy, info.strideHeight, info.strideWidth);
  const top = info.effectiveFilterHeight - 1 - info.padInfo.top;
  const left = info.effectiveFilterWidth - 1 - info.padInfo.left;
  const bottom = info.inHeight + info.effectiveFilterHeight - 1 - top - d.shape[1]!;
  const right = info.inWidth + info.effectiveFilterWidth - 1 - left - d.shape[2]!;
  const out = padSpatial(o, d, top, bottom, left, right);
  if (d !== dy && out !== d) o.dispose(d);
  return out;
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: string;
  dimRoundingMode?: Rounding;
  dilations?: number | [number, number];
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

function convInfo(xShape: number[], filterShape: number[], a: ConvAttrs, depthwise: boolean): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    depthwise,
  );
}

/** Writes the [cols, rows] transpose of the [rows, cols] matrix at src[off…] into dst[dOff…]. */
function transposeInto(src: Float32Array, off: number, rows: number, cols: number, dst: Float32Array, dOff: number): void {
  // 32×32 tiles keep both sides in cache; wasm's Transpose kernel is ~5× slower on these sizes.
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        const so = off + r * cols;
        for (let c = c0; c < c1; c++) dst[dOff + c * rows + r] = src[so + c]!;
      }
    }
  }
}

/** A new [1, cols, rows] wasm tensor: the transpose of `rows` rows of x (viewed as [·, cols]) from row r0. */
function transposeRows(o: Ops, x: Info, r0: number, rows: number, cols: number): Info {
  const out = o.alloc([1, cols, rows]);
  transposeInto(o.view(x), r0 * cols, rows, cols, o.view(out), 0);
  return out;
}

function conv2dBackpropFilter(o: Ops, x: Info, dy: Info, a: ConvAttrs): Info {
  const fs = a.filterShape!;
  const info = convInfo(x.shape, fs, a, false);
  const [kh, kw, ci, co] = fs;
  const m = info.batchSize * info.outHeight * info.outWidth;
  const pt = info.padInfo;
  const pointwise = kh === 1 && kw === 1 && info.strideHeight === 1 && info.strideWidth === 1 && pt.top + pt.bottom + pt.left + pt.right === 0;
  // dW = Pᵀ·dy, P the [m, kh·kw·ci] patches (x itself for a 1×1 stride-1 convolution).
  if (o.native && m * kh * kw * ci * co >= NATIVE_MIN_MACS) return nativeBackpropFilter(o, o.native, x, dy, info, fs, pointwise);
  // XNNPACK's matMul is fast only untransposed, so one side is transposed in JS first: the narrower one.
  if (pointwise && ci <= co) {
    const xt = transposeRows(o, x, 0, m, ci);
    const dy2 = reshape(o, dy, [1, m, co]);
    const g = o.run('BatchMatMul', { a: xt, b: dy2 }, { transposeA: false, transposeB: false });
    const out = reshape(o, g, fs);
    o.dispose(xt, dy2, g);
    return out;
  }
  const k = kh * kw * ci;
  // Patches are built in chunks of rows, so a big early layer never needs its whole im2col.
  const chunk = pointwise ? m : Math.max(1, Math.min(m, Math.floor((1 << 22) / k)));
  let acc: Info | null = null;
  for (let r0 = 0; r0 < m; r0 += chunk) {
    const rows = Math.min(chunk, m - r0);
    const dyt = transposeRows(o, dy, r0, rows, co);
    let p: Info;
    if (pointwise) p = reshape(o, x, [1, m, ci]);
    else {
      p = o.alloc([1, rows, k]);
      im2col(o.view(x), x.shape as number[], info, kh, kw, r0, rows, o.view(p));
    }
    const g = o.run('BatchMatMul', { a: dyt, b: p }, { transposeA: false, transposeB: false });
    o.dispose(dyt, p);
    if (acc) {
      const sum = o.run('Add', { a: acc, b: g });
      o.dispose(acc, g);
      acc = sum;
    } else acc = g;
  }
  // acc is dWᵀ [co, k]; the filter is [kh, kw, ci, co].
  const out = o.alloc(fs);
  transposeInto(o.view(acc!), 0, co, k, o.view(out), 0);
  o.dispose(acc!);
  return out;
}

/** Patches reused across calls: fresh memory costs page faults every time. */
let patchScratch = new Float32Array(0);

/** dW = Pᵀ·dy in ONNX Runtime: one product for a 1×1 convolution, else per chunk of im2col rows. */
function nativeBackpropFilter(o: Ops, native: NativeGemm, x: Info, dy: Info, info: tf.backend_util.Conv2DInfo, fs: number[], pointwise: boolean): Info {
  const [kh, kw, ci, co] = fs as [number, number, number, number];
  const m = info.batchSize * info.outHeight * info.outWidth;
  const out = o.alloc(fs);
  if (pointwise) {
    native.gemm(o.view(x), m, ci, true, o.view(dy), m, co, false, o.view(out));
    return out;
  }
  const k = kh * kw * ci;
  const chunk = Math.max(1, Math.min(m, Math.floor((1 << 23) / k)));
  if (patchScratch.length < chunk * k) patchScratch = new Float32Array(chunk * k);
  const part = new Float32Array(k * co);
  const sum = new Float32Array(k * co);
  for (let r0 = 0; r0 < m; r0 += chunk) {
    const rows = Math.min(chunk, m - r0);
    im2col(o.view(x), x.shape as number[], info, kh, kw, r0, rows, patchScratch);
    native.gemm(patchScratch, rows, k, true, o.view(dy).subarray(r0 * co), rows, co, false, part);
    for (let i = 0; i < sum.length; i++) sum[i]! += part[i]!;
  }
  o.view(out).set(sum);
  return out;
}

/**
 * The filter taps that read inside the input for output position (n, i, j): writes pairs
 * (tap index ky·kw+kx, input pixel index) into `out` and returns how many. Padding is implicit.
 */
function tapsAt(info: tf.backend_util.Conv2DInfo, kh: number, kw: number, n: number, i: number, j: number, out: Int32Array): number {
  const { inHeight: h, inWidth: w, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  let count = 0;
  for (let ky = 0; ky < kh; ky++) {
    const y = i * sh + ky * dh - top;
    if (y < 0 || y >= h) continue;
    for (let kx = 0; kx < kw; kx++) {
      const xx = j * sw + kx * dw - left;
      if (xx < 0 || xx >= w) continue;
      out[count++] = ky * kw + kx;
      out[count++] = (n * h + y) * w + xx;
    }
  }
  return count;
}

/** Rows r0…r0+rows of the im2col matrix: for each output position, its kh·kw·ci input values (0 outside). */
function im2col(x: Float32Array, shape: number[], info: tf.backend_util.Conv2DInfo, kh: number, kw: number, r0: number, rows: number, out: Float32Array): void {
  const ci = shape[3]!;
  const { outHeight: oh, outWidth: ow } = info;
  const k = kh * kw * ci;
  const taps = new Int32Array(2 * kh * kw);
  out.fill(0, 0, rows * k);
  for (let r = 0; r < rows; r++) {
    const pos = r0 + r;
    const n = Math.floor(pos / (oh * ow));
    const rem = pos - n * oh * ow;
    const i = Math.floor(rem / ow);
    const count = tapsAt(info, kh, kw, n, i, rem - i * ow, taps);
    for (let t = 0; t < count; t += 2) {
      const src = taps[t + 1]! * ci;
      out.set(x.subarray(src, src + ci), r * k + taps[t]! * ci);
    }
  }
}

function conv2dBackpropInput(o: Ops, dy: Info, filter: Info, a: ConvAttrs): Info {
  const xs = a.inputShape!;
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const info = convInfo(xs, filter.shape, a, false);
  const pt = info.padInfo;
  const pointwise = kh === 1 && kw === 1 && info.strideHeight === 1 && info.strideWidth === 1 && pt.top + pt.bottom + pt.left + pt.right === 0;
  const m = info.batchSize * info.outHeight * info.outWidth;
  if (pointwise && o.native && m * ci * co >= NATIVE_MIN_MACS) {
    // dx = dy·Wᵀ, [m, co]·[co, ci], in ONNX Runtime.
    const out = o.alloc(xs);
    o.native.gemm(o.view(dy), m, co, false, o.view(filter), ci, co, true, o.view(out));
    return out;
  }
  if (pointwise) {
    // dx = dy·Wᵀ as a 1×1 convolution with the channels swapped (XNNPACK; matMul with
    // transposeB is a slow plain loop in tfjs-wasm).
    const wt = o.run('Transpose', { x: filter }, { perm: [0, 1, 3, 2] });
    const out = o.run('Conv2D', { x: dy, filter: wt }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 });
    o.dispose(wt);
    return out;
  }
  // Rotate the filter 180° and swap its channels: [kh, kw, co, ci].
  const rev = o.run('Reverse', { x: filter }, { dims: [0, 1] });
  const wt = o.run('Transpose', { x: rev }, { perm: [0, 1, 3, 2] });
  const dp = fullPadded(o, dy, info);
  try {
    return o.run('Conv2D', { x: dp, filter: wt }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: [info.dilationHeight, info.dilationWidth] });
  } finally {
    o.dispose(rev, wt);
    if (dp !== dy) o.dispose(dp);
  }
}

function depthwiseBackpropFilter(o: Ops, x: Info, dy: Info, a: ConvAttrs): Info {
  const fs = a.filterShape!;
  const [kh, kw, c] = fs;
  const info = convInfo(x.shape, fs, a, true);
  const { batchSize: nb, outHeight: oh, outWidth: ow } = info;
  // Sums of shifted products, dW[ky,kx,c] = Σ x[n, i·s+ky−top, j·s+kx−left, c]·dy[n,i,j,c], read
  // in place from wasm memory with the channel innermost. (Composed from wasm ops this needs
  // a strided window copy per tap, and wasm's Slice/StridedSlice are the slow part.)
  // Float64 partial sums: a layer sums up to ~10⁵ products per weight.
  const acc = new Float64Array(kh * kw * c);
  const taps = new Int32Array(2 * kh * kw);
  const xv = o.view(x);
  const dv = o.view(dy);
  for (let n = 0; n < nb; n++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const d0 = ((n * oh + i) * ow + j) * c;
        const count = tapsAt(info, kh, kw, n, i, j, taps);
        for (let t = 0; t < count; t += 2) {
          const a0 = taps[t]! * c;
          const x0 = taps[t + 1]! * c;
          for (let ch = 0; ch < c; ch++) acc[a0 + ch]! += xv[x0 + ch]! * dv[d0 + ch]!;
        }
      }
    }
  }
  const out = o.alloc(fs);
  o.view(out).set(acc);
  return out;
}

function depthwiseBackpropInput(o: Ops, dy: Info, filter: Info, a: ConvAttrs): Info {
  const xs = a.inputShape!;
  const info = convInfo(xs, filter.shape, a, true);
  const rev = o.run('Reverse', { x: filter }, { dims: [0, 1] });
  const dp = fullPadded(o, dy, info);
  try {
    return o.run('DepthwiseConv2dNative', { x: dp, filter: rev }, { strides: 1, pad: 'valid', dilations: [info.dilationHeight, info.dilationWidth] });
  } finally {
    o.dispose(rev);
    if (dp !== dy) o.dispose(dp);
  }
}

/**
 * Slice read in place from wasm memory, copying runs as long as the slice allows. The stock
 * wasm Slice first copies the whole input out of wasm memory (readSync); in training it is
 * the gradient of every ZeroPadding layer, on the largest activations.
 */
function slice(o: Ops, x: Info, a: { begin: number | number[]; size?: number | number[] }): Info | null {
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return null;
  const parsed = tf.slice_util.parseSliceParams(x as unknown as tf.TensorInfo & { rank: number }, a.begin, a.size);
  const begin = parsed[0]!;
  const size = parsed[1]!;
  const shape = x.shape;
  const rank = shape.length;
  if (rank === 0) return null;
  // Innermost dims taken whole merge into one run with the first partial dim above them.
  let run = 1;
  let d = rank - 1;
  while (d > 0 && begin[d] === 0 && size[d] === shape[d]) run *= shape[d--]!;
  run *= size[d]!;
  const strides = tf.util.computeStrides(shape);
  const out = o.alloc(size, x.dtype);
  const xv = o.heap(x);
  const ov = o.heap(out);
  const outer = size.slice(0, d);
  const count = outer.reduce((p, v) => p * v, 1);
  const idx = new Array<number>(d).fill(0);
  for (let r = 0; r < count; r++) {
    let off = begin[d]! * (d < rank - 1 ? strides[d]! : 1);
    for (let k = 0; k < d; k++) off += (begin[k]! + idx[k]!) * strides[k]!;
    ov.set(xv.subarray(off, off + run), r * run);
    for (let k = d - 1; k >= 0; k--) {
      if (++idx[k]! < outer[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

/**
 * A big 1×1 stride-1 convolution forward (Conv2D, or FusedConv2D with a bias and a linear,
 * ReLU or ReLU6 activation) as one product X·W in ONNX Runtime. Anything else: stock XNNPACK.
 */
function pointwiseForward(o: Ops, inputs: Record<string, Info>, a: ConvAttrs & { activation?: string }): Info | null {
  const native = o.native;
  const { x, filter, bias, preluActivationWeights } = inputs as { x: Info; filter: Info; bias?: Info; preluActivationWeights?: Info };
  if (!native || preluActivationWeights || a.dataFormat === 'NCHW') return null;
  const act = a.activation ?? 'linear';
  if (act !== 'linear' && act !== 'relu' && act !== 'relu6') return null;
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  if (kh !== 1 || kw !== 1) return null;
  const info = convInfo(x.shape, filter.shape, a, false);
  const pt = info.padInfo;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1 || pt.top + pt.bottom + pt.left + pt.right !== 0) return null;
  const m = info.batchSize * info.outHeight * info.outWidth;
  if (m * ci * co < NATIVE_MIN_MACS) return null;
  const out = o.alloc([info.batchSize, info.outHeight, info.outWidth, co]);
  const y = o.view(out);
  native.gemm(o.view(x), m, ci, false, o.view(filter), ci, co, false, y);
  const b = bias ? o.view(bias) : null;
  if (b || act !== 'linear') {
    const hi = act === 'relu6' ? 6 : Infinity;
    const lo = act === 'linear' ? -Infinity : 0;
    for (let r = 0; r < m; r++) {
      const off = r * co;
      for (let c = 0; c < co; c++) {
        const v = y[off + c]! + (b ? b[c]! : 0);
        y[off + c] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  }
  return out;
}

/** Whether our kernels handle this call; otherwise it goes to the previous (delegating) kernel. */
function covered(a: ConvAttrs, filterShape: number[] | undefined, depthwise: boolean): boolean {
  if (a.dataFormat === 'NCHW') return false;
  if (!filterShape) return false;
  if (depthwise && filterShape[3] !== 1) return false;
  return true;
}

let provided: string[] | null = null;
let nativeInUse: NativeGemm | null = null;

/** Where the big products of the gradient kernels run, in words (for the engine's record). */
export function gradientMatMulRuntime(): string {
  return nativeInUse ? `ONNX Runtime on ${nativeInUse.threads} threads` : 'tfjs-wasm (XNNPACK, 1 thread)';
}

/**
 * Registers the kernels on 'wasm' (idempotent). Whatever was registered under these names
 * before (the cpu delegates) stays reachable for shapes we do not cover. Returns the names.
 */
export function installWasmGradients(options: { native?: boolean } = {}): string[] {
  if (provided) return provided;
  // ONNX Runtime takes the big products unless told not to (STUDIO_NATIVE_GEMM=0, or tests).
  const native = (options.native ?? process.env.STUDIO_NATIVE_GEMM !== '0') ? nativeGemm() : null;
  nativeInUse = native;
  const stock = new Map<string, KernelFunc>();
  for (const k of tf.getKernelsForBackend('wasm')) stock.set(k.kernelName, k.kernelFunc);
  const previous = (name: string) => stock.get(name);
  const register = (name: string, f: (o: Ops, inputs: Record<string, Info>, a: ConvAttrs) => Info | null) => {
    const before = previous(name);
    if (before) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: (args) => {
        const o = opsFor(args.backend as tf.KernelBackend, stock, native);
        const out = f(o, args.inputs as Record<string, Info>, args.attrs as unknown as ConvAttrs);
        if (out) return out;
        if (!before) throw new Error(`No wasm kernel for this ${name} call.`);
        return before(args);
      },
    });
  };
  register('Conv2DBackpropFilter', (o, i, a) => (covered(a, a.filterShape, false) ? conv2dBackpropFilter(o, i.x!, i.dy!, a) : null));
  register('Conv2DBackpropInput', (o, i, a) => (covered(a, i.filter!.shape, false) ? conv2dBackpropInput(o, i.dy!, i.filter!, a) : null));
  register('DepthwiseConv2dNativeBackpropFilter', (o, i, a) => (covered(a, a.filterShape, true) ? depthwiseBackpropFilter(o, i.x!, i.dy!, a) : null));
  register('DepthwiseConv2dNativeBackpropInput', (o, i, a) => (covered(a, i.filter!.shape, true) ? depthwiseBackpropInput(o, i.dy!, i.filter!, a) : null));
  register('Slice', (o, i, a) => slice(o, i.x!, a as unknown as { begin: number[]; size: number[] }));
  provided = [...WASM_GRADIENT_KERNELS, 'Slice'];
  if (native) {
    // Big 1×1 convolutions forward too: MobileNetV2's trainable part is mostly these.
    register('Conv2D', (o, i, a) => pointwiseForward(o, i, a));
    register('FusedConv2D', (o, i, a) => pointwiseForward(o, i, a));
    provided.push('Conv2D (big 1×1)', 'FusedConv2D (big 1×1)');
  }
  return provided;
}
