// Building blocks of our wasm kernels: running the backend's stock kernels on TensorInfos,
// views of wasm memory, padding and dilation for the "full" convolution of backprop, and the
// in-place loops (transpose, filter taps, im2col) the kernels share.
import * as tf from '@tensorflow/tfjs';
import type { NativeGemm } from './native-gemm.js';

export type Info = tf.TensorInfo;
export type KernelFunc = tf.KernelFunc;
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

interface WasmBackend {
  disposeData(dataId: unknown, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): tf.backend_util.TypedArray;
}

/** Stock wasm kernels we build on, captured before we register anything. */
export interface Ops {
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

export function opsFor(backend: tf.KernelBackend, stock: Map<string, KernelFunc>, native: NativeGemm | null): Ops {
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

export const reshape = (o: Ops, x: Info, shape: number[]) => o.run('Reshape', { x }, { shape });

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
  const out = o.run(
    'PadV2',
    { x: cur },
    {
      paddings: [
        [0, 0],
        [pt, pb],
        [pl, pr],
        [0, 0],
      ],
      constantValue: 0,
    },
  );
  if (cur !== x) o.dispose(cur);
  return out;
}

/** Inserts (s-1) zeros after every row/column of dy (the transpose of a strided read). */
function dilate(o: Ops, dy: Info, sh: number, sw: number): Info {
  if (sh === 1 && sw === 1) return dy;
  const [n, h, w, c] = dy.shape as [number, number, number, number];
  const r6 = reshape(o, dy, [n, h, 1, w, 1, c]);
  const p6 = o.run(
    'PadV2',
    { x: r6 },
    {
      paddings: [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ],
      constantValue: 0,
    },
  );
  const out = reshape(o, p6, [n, h * sh, w * sw, c]);
  o.dispose(r6, p6);
  return out;
}

/**
 * dy dilated by the stride and padded so that a stride-1 'valid' convolution with the rotated
 * filter gives exactly the input's height and width: the "full" convolution of backprop.
 */
export function fullPadded(o: Ops, dy: Info, info: tf.backend_util.Conv2DInfo): Info {
  const d = dilate(o, dy, info.strideHeight, info.strideWidth);
  const top = info.effectiveFilterHeight - 1 - info.padInfo.top;
  const left = info.effectiveFilterWidth - 1 - info.padInfo.left;
  const bottom = info.inHeight + info.effectiveFilterHeight - 1 - top - d.shape[1]!;
  const right = info.inWidth + info.effectiveFilterWidth - 1 - left - d.shape[2]!;
  const out = padSpatial(o, d, top, bottom, left, right);
  if (d !== dy && out !== d) o.dispose(d);
  return out;
}

export interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: string;
  dimRoundingMode?: Rounding;
  dilations?: number | [number, number];
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

export function convInfo(xShape: number[], filterShape: number[], a: ConvAttrs, depthwise: boolean): tf.backend_util.Conv2DInfo {
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
export function transposeInto(src: Float32Array, off: number, rows: number, cols: number, dst: Float32Array, dOff: number): void {
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
export function transposeRows(o: Ops, x: Info, r0: number, rows: number, cols: number): Info {
  const out = o.alloc([1, cols, rows]);
  transposeInto(o.view(x), r0 * cols, rows, cols, o.view(out), 0);
  return out;
}

/**
 * The filter taps that read inside the input for output position (n, i, j): writes pairs
 * (tap index ky·kw+kx, input pixel index) into `out` and returns how many. Padding is implicit.
 */
export function tapsAt(info: tf.backend_util.Conv2DInfo, kh: number, kw: number, n: number, i: number, j: number, out: Int32Array): number {
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
export function im2col(
  x: Float32Array,
  shape: number[],
  info: tf.backend_util.Conv2DInfo,
  kh: number,
  kw: number,
  r0: number,
  rows: number,
  out: Float32Array,
): void {
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
