// Stock wasm kernels we replace with faster versions on the shapes training hits most: Slice
// read in place, and big 1×1 convolutions forward as one ONNX Runtime product.
import * as tf from '@tensorflow/tfjs';
import { NATIVE_MIN_MACS } from './native-gemm.js';
import { convInfo, type ConvAttrs, type Info, type Ops } from './wasm-ops.js';

/**
 * Slice read in place from wasm memory, copying runs as long as the slice allows. The stock
 * wasm Slice first copies the whole input out of wasm memory (readSync); in training it is
 * the gradient of every ZeroPadding layer, on the largest activations.
 */
export function slice(o: Ops, x: Info, a: { begin: number | number[]; size?: number | number[] }): Info | null {
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
export function pointwiseForward(o: Ops, inputs: Record<string, Info>, a: ConvAttrs & { activation?: string }): Info | null {
  const native = o.native;
  const { x, filter, bias, preluActivationWeights } = inputs as { x: Info; filter: Info; bias?: Info; preluActivationWeights?: Info };
  if (!native || preluActivationWeights || a.dataFormat === 'NCHW') return null;
  const act = a.activation ?? 'linear';
  if (act !== 'linear' && act !== 'relu' && act !== 'relu6') return null;
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  if (kh !== 1 || kw !== 1) return null;
  const info = convInfo(x.shape, filter.shape, a, false);
  const pt = info.padInfo;
  if (
    info.strideHeight !== 1 ||
    info.strideWidth !== 1 ||
    info.dilationHeight !== 1 ||
    info.dilationWidth !== 1 ||
    pt.top + pt.bottom + pt.left + pt.right !== 0
  )
    return null;
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
