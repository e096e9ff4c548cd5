// Activations: the function a layer's `activation` config names (Conv2D, Dense… apply it
// themselves) and the stand-alone activation layers (Activation, ReLU, LeakyReLU, ELU, Softmax).
import type { GraphBuilder, Value } from './graph-builder.js';
import { UnsupportedLayerError } from './errors.js';
import { layoutAxis, type EmitArgs, type Emitter } from './emit-args.js';

/** Applies a Keras/tfjs activation (by its serialised name) to a value of any layout. */
export function activation(b: GraphBuilder, v: Value, act: unknown, layerName: string, cls: string): Value {
  const name = act === null || act === undefined ? 'linear' : String(act);
  const out = (op: string, inputs: string[], attrs = {}): Value => ({
    name: b.one(op, inputs, attrs, `${layerName}_${name}`),
    shape: v.shape,
    layout: v.layout,
  });
  const lastAxis = v.layout === 'nchw' ? 1 : v.shape.length - 1;
  switch (name) {
    case 'linear':
      return v;
    case 'relu':
      return out('Relu', [v.name]);
    case 'relu6':
      return out('Clip', [v.name, b.scalar('zero', 0), b.scalar('six', 6)]);
    case 'sigmoid':
      return out('Sigmoid', [v.name]);
    case 'tanh':
      return out('Tanh', [v.name]);
    case 'softmax':
      return out('Softmax', [v.name], { axis: lastAxis });
    case 'logSoftmax':
    case 'log_softmax':
      return out('LogSoftmax', [v.name], { axis: lastAxis });
    case 'elu':
      return out('Elu', [v.name], { alpha: { f: 1 } });
    case 'selu':
      return out('Selu', [v.name]);
    case 'softplus':
      return out('Softplus', [v.name]);
    case 'softsign':
      return out('Softsign', [v.name]);
    case 'hardSigmoid':
    case 'hard_sigmoid':
      return out('HardSigmoid', [v.name], { alpha: { f: 0.2 }, beta: { f: 0.5 } });
    case 'swish': {
      const s = b.one('Sigmoid', [v.name], {}, `${layerName}_swish`);
      return out('Mul', [v.name, s]);
    }
    case 'mish': {
      const sp = b.one('Softplus', [v.name], {}, `${layerName}_mish`);
      const th = b.one('Tanh', [sp], {}, `${layerName}_mish`);
      return out('Mul', [v.name, th]);
    }
    case 'gelu': {
      // tfjs: 0.5 · x · (1 + erf(x / √2))
      const d = b.one('Div', [v.name, b.scalar('sqrt2', Math.SQRT2)], {}, `${layerName}_gelu`);
      const e = b.one('Erf', [d], {}, `${layerName}_gelu`);
      const p = b.one('Add', [e, b.scalar('one', 1)], {}, `${layerName}_gelu`);
      const h = b.one('Mul', [p, b.scalar('half', 0.5)], {}, `${layerName}_gelu`);
      return out('Mul', [v.name, h]);
    }
    default:
      throw new UnsupportedLayerError(layerName, cls, `activation ${name}`);
  }
}

function reluLayer(a: EmitArgs): Value[] {
  const { b, config, layer } = a;
  const v = a.inputs[0]!;
  const max = config.maxValue;
  if (max === null || max === undefined) return [activation(b, v, 'relu', layer.name, a.className)];
  const clip = b.one('Clip', [v.name, b.scalar('zero', 0), b.scalar(`${layer.name}_max`, Number(max))], {}, layer.name);
  return [{ name: clip, shape: v.shape, layout: v.layout }];
}

/** LeakyReLU and ELU: one ONNX op with the layer's `alpha` (tfjs' defaults differ). */
function withAlpha(op: 'LeakyRelu' | 'Elu', defaultAlpha: number): Emitter {
  return (a) => {
    const v = a.inputs[0]!;
    const alpha = { f: Number(a.config.alpha ?? defaultAlpha) };
    return [{ name: a.b.one(op, [v.name], { alpha }, a.layer.name), shape: v.shape, layout: v.layout }];
  };
}

function softmaxLayer(a: EmitArgs): Value[] {
  const v = a.inputs[0]!;
  const raw = a.config.axis ?? -1;
  if (Array.isArray(raw) && raw.length !== 1) throw new UnsupportedLayerError(a.layer.name, a.className, `softmax over several axes`);
  const axis = layoutAxis(v, Number(Array.isArray(raw) ? raw[0] : raw));
  return [{ name: a.b.one('Softmax', [v.name], { axis }, a.layer.name), shape: v.shape, layout: v.layout }];
}

export const ACTIVATION_LAYERS: Record<string, Emitter> = {
  Activation: (a) => [activation(a.b, a.inputs[0]!, a.config.activation, a.layer.name, a.className)],
  ReLU: reluLayer,
  LeakyReLU: withAlpha('LeakyRelu', 0.3),
  ELU: withAlpha('Elu', 1),
  Softmax: softmaxLayer,
};
