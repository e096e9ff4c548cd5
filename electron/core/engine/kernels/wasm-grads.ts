// Our own gradient kernels for the tfjs-wasm backend. tfjs-wasm has fast forward
// convolutions and matMuls (XNNPACK, SIMD) but no Conv2DBackpropFilter and no depthwise
// gradients, and its Conv2DBackpropInput is a plain loop. Each kernel here is built only from
// the backend's own fast kernels, on its own memory (no copies to tfjs-cpu):
//
//   Conv2DBackpropFilter                 dW = Pᵀ·dy over im2col patches P, built in chunks
//                                        (a 1×1 stride-1 convolution is a single matMul)
//   Conv2DBackpropInput                  1×1 stride 1: dx = dy · Wᵀ (one matMul); otherwise the
//                                        forward Conv2D of the stride-dilated, padded dy with the
//                                        filter rotated 180° and its channels swapped
//   DepthwiseConv2dNativeBackpropFilter  sums of shifted products, read in place from wasm memory
//   DepthwiseConv2dNativeBackpropInput   the forward depthwise convolution of the dilated,
//                                        padded dy with the filter rotated 180°
//
// Products of at least NATIVE_MIN_MACS multiply-adds run in ONNX Runtime (native-gemm.ts).
// Shared pieces are in wasm-ops.ts; faster Slice and 1×1 forward in wasm-fast-paths.ts.
// A shape these do not cover (channel multiplier > 1, NCHW) goes to the cpu delegate
// (wasm-delegate.ts), which records that the slow path ran, so a run and the UI can name it.
import * as tf from '@tensorflow/tfjs';
import { NATIVE_MIN_MACS, nativeGemm, type NativeGemm } from './native-gemm.js';
import {
  convInfo,
  fullPadded,
  im2col,
  opsFor,
  reshape,
  tapsAt,
  transposeInto,
  transposeRows,
  type ConvAttrs,
  type Info,
  type KernelFunc,
  type Ops,
} from './wasm-ops.js';
import { pointwiseForward, slice } from './wasm-fast-paths.js';

/** The kernels this module registers on 'wasm', in the order it registers them. */
export const WASM_GRADIENT_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;

function conv2dBackpropFilter(o: Ops, x: Info, dy: Info, a: ConvAttrs): Info {
  const fs = a.filterShape!;
  const info = convInfo(x.shape, fs, a, false);
  const [kh, kw, ci, co] = fs;
  const m = info.batchSize * info.outHeight * info.outWidth;
  const pt = info.padInfo;
  const pointwise =
    kh === 1 && kw === 1 && info.strideHeight === 1 && info.strideWidth === 1 && pt.top + pt.bottom + pt.left + pt.right === 0;
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
function nativeBackpropFilter(
  o: Ops,
  native: NativeGemm,
  x: Info,
  dy: Info,
  info: tf.backend_util.Conv2DInfo,
  fs: number[],
  pointwise: boolean,
): Info {
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

function conv2dBackpropInput(o: Ops, dy: Info, filter: Info, a: ConvAttrs): Info {
  const xs = a.inputShape!;
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const info = convInfo(xs, filter.shape, a, false);
  const pt = info.padInfo;
  const pointwise =
    kh === 1 && kw === 1 && info.strideHeight === 1 && info.strideWidth === 1 && pt.top + pt.bottom + pt.left + pt.right === 0;
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
    return o.run(
      'Conv2D',
      { x: dp, filter: wt },
      { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: [info.dilationHeight, info.dilationWidth] },
    );
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
    return o.run(
      'DepthwiseConv2dNative',
      { x: dp, filter: rev },
      { strides: 1, pad: 'valid', dilations: [info.dilationHeight, info.dilationWidth] },
    );
  } finally {
    o.dispose(rev);
    if (dp !== dy) o.dispose(dp);
  }
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
  // ONNX Runtime takes the big products unless told not to (the compute settings' nativeGemm, or tests).
  const native = (options.native ?? true) ? nativeGemm() : null;
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
  register('DepthwiseConv2dNativeBackpropFilter', (o, i, a) =>
    covered(a, a.filterShape, true) ? depthwiseBackpropFilter(o, i.x!, i.dy!, a) : null,
  );
  register('DepthwiseConv2dNativeBackpropInput', (o, i, a) =>
    covered(a, i.filter!.shape, true) ? depthwiseBackpropInput(o, i.dy!, i.filter!, a) : null,
  );
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
