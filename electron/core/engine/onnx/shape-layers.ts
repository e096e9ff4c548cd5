// Layers without weights that combine, reshape or pass values through: the merge layers
// (Add, Concatenate…), Flatten, Reshape, Permute, Rescaling and the training-only layers
// (dropout, noise), which are the identity at inference.
import type { GraphBuilder, Value } from './graph-builder.js';
import { layoutAxis, requireChannelsLast, type EmitArgs, type Emitter } from './emit-args.js';

/** All inputs in one layout: NCHW when any is (they are all 4-D then), else Keras. */
function sameLayout(b: GraphBuilder, inputs: Value[]): Value[] {
  const anyNchw = inputs.some((v) => v.layout === 'nchw') && inputs.every((v) => v.shape.length === 4);
  return inputs.map((v) => (anyNchw ? b.toNchw(v) : b.toKeras(v)));
}

function elementwise(op: 'Add' | 'Sub' | 'Mul' | 'Max' | 'Min' | 'Mean'): Emitter {
  return (a) => {
    const { b, layer } = a;
    const xs = sameLayout(b, a.inputs);
    const names = xs.map((x) => x.name);
    let name: string;
    if (op === 'Sub') name = b.one('Sub', [names[0]!, names[1]!], {}, layer.name);
    else if (op === 'Mean') name = b.one('Div', [b.one('Sum', names, {}, layer.name), b.scalar('count', xs.length)], {}, layer.name);
    else if (op === 'Add' || op === 'Max' || op === 'Min') name = b.one(op === 'Add' ? 'Sum' : op, names, {}, layer.name);
    else {
      name = names[0]!;
      for (const x of names.slice(1)) name = b.one('Mul', [name, x], {}, layer.name);
    }
    return [{ name, shape: a.outShapes[0]!, layout: xs[0]!.layout }];
  };
}

function concatenate(a: EmitArgs): Value[] {
  const { b, config, layer } = a;
  const xs = sameLayout(b, a.inputs);
  const axis = layoutAxis(xs[0]!, Number(config.axis ?? -1));
  const names = xs.map((x) => x.name);
  return [{ name: b.one('Concat', names, { axis }, layer.name), shape: a.outShapes[0]!, layout: xs[0]!.layout }];
}

function flatten(a: EmitArgs): Value[] {
  requireChannelsLast(a);
  const x = a.b.toKeras(a.inputs[0]!);
  return [{ name: a.b.one('Flatten', [x.name], { axis: 1 }, a.layer.name), shape: a.outShapes[0]!, layout: 'keras' }];
}

function reshape(a: EmitArgs): Value[] {
  const x = a.b.toKeras(a.inputs[0]!);
  const target = a.config.targetShape as number[];
  const shape = a.b.int64Init(`${a.layer.name}_shape`, [0, ...target.map((d) => (d === null ? -1 : d))]);
  return [{ name: a.b.one('Reshape', [x.name, shape], {}, a.layer.name), shape: a.outShapes[0]!, layout: 'keras' }];
}

/** Keras Permute: `dims` reorder the axes after the batch (1-based), e.g. [2, 1, 3]. */
function permute(a: EmitArgs): Value[] {
  const x = a.b.toKeras(a.inputs[0]!);
  const dims = a.config.dims as number[];
  return [{ name: a.b.one('Transpose', [x.name], { perm: [0, ...dims] }, a.layer.name), shape: a.outShapes[0]!, layout: 'keras' }];
}

function identity(a: EmitArgs): Value[] {
  const v = a.inputs[0]!;
  return [{ name: v.name, shape: v.shape, layout: v.layout }];
}

function rescaling(a: EmitArgs): Value[] {
  const v = a.inputs[0]!;
  const scale = Number(a.config.scale ?? 1);
  const offset = Number(a.config.offset ?? 0);
  let name = a.b.one('Mul', [v.name, a.b.scalar(`${a.layer.name}_scale`, scale)], {}, a.layer.name);
  if (offset !== 0) name = a.b.one('Add', [name, a.b.scalar(`${a.layer.name}_offset`, offset)], {}, a.layer.name);
  return [{ name, shape: v.shape, layout: v.layout }];
}

export const SHAPE_LAYERS: Record<string, Emitter> = {
  Add: elementwise('Add'),
  Subtract: elementwise('Sub'),
  Multiply: elementwise('Mul'),
  Maximum: elementwise('Max'),
  Minimum: elementwise('Min'),
  Average: elementwise('Mean'),
  Concatenate: concatenate,
  Flatten: flatten,
  Reshape: reshape,
  Permute: permute,
  Dropout: identity,
  SpatialDropout1D: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
  ActivityRegularization: identity,
  Rescaling: rescaling,
};
