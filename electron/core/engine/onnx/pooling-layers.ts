// Layers that slide a window or pad the picture: max/average pooling, global pooling and
// zero padding. All of them work on NCHW values.
import { UnsupportedLayerError } from './errors.js';
import { pair, requireChannelsLast, windowPadding, type EmitArgs, type Emitter } from './emit-args.js';
import type { Value } from './graph-builder.js';

function pooling(op: 'MaxPool' | 'AveragePool'): Emitter {
  return (a) => {
    requireChannelsLast(a);
    const { b, config, layer } = a;
    const k = pair(config.poolSize, 'poolSize', layer.name, a.className);
    const s = pair(config.strides ?? config.poolSize, 'strides', layer.name, a.className);
    const x = b.toNchw(a.inputs[0]!);
    // count_include_pad = 0: TF (and tfjs) average only the pixels inside the image at SAME edges.
    const attrs = {
      kernel_shape: k,
      strides: s,
      ...windowPadding(a, config.padding, k, s, [1, 1]),
      ...(op === 'AveragePool' ? { count_include_pad: 0 } : {}),
    };
    return [{ name: b.one(op, [x.name], attrs, layer.name), shape: a.outShapes[0]!, layout: 'nchw' }];
  };
}

function globalPooling(op: 'GlobalAveragePool' | 'GlobalMaxPool'): Emitter {
  return (a) => {
    requireChannelsLast(a);
    const { b, layer } = a;
    const x = b.toNchw(a.inputs[0]!);
    if (x.shape.length !== 4) throw new UnsupportedLayerError(layer.name, a.className, `input of rank ${x.shape.length}`);
    const pooled = b.one(op, [x.name], {}, layer.name);
    // [N, C, 1, 1] is already the NCHW form of keepDims' [N, 1, 1, C].
    if (a.config.keepDims) return [{ name: pooled, shape: a.outShapes[0]!, layout: 'nchw' }];
    return [{ name: b.one('Flatten', [pooled], { axis: 1 }, layer.name), shape: a.outShapes[0]!, layout: 'keras' }];
  };
}

function zeroPadding2d(a: EmitArgs): Value[] {
  requireChannelsLast(a);
  const { b, config, layer } = a;
  const p = config.padding;
  let t: number, bo: number, l: number, r: number;
  if (typeof p === 'number') [t, bo, l, r] = [p, p, p, p];
  else if (Array.isArray(p) && Array.isArray(p[0])) [[t, bo], [l, r]] = p as [[number, number], [number, number]];
  else if (Array.isArray(p)) [t, bo, l, r] = [p[0] as number, p[0] as number, p[1] as number, p[1] as number];
  else throw new UnsupportedLayerError(layer.name, a.className, `padding ${JSON.stringify(p)}`);
  const x = b.toNchw(a.inputs[0]!);
  const pads = b.int64Init(`${layer.name}_pads`, [0, 0, t, l, 0, 0, bo, r]);
  return [{ name: b.one('Pad', [x.name, pads], { mode: 'constant' }, layer.name), shape: a.outShapes[0]!, layout: 'nchw' }];
}

export const POOLING_LAYERS: Record<string, Emitter> = {
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  GlobalAveragePooling2D: globalPooling('GlobalAveragePool'),
  GlobalMaxPooling2D: globalPooling('GlobalMaxPool'),
  ZeroPadding2D: zeroPadding2d,
};
