// Cutting a functional layers model at a layer. tfjs-layers can take the part below a layer
// (a model to that layer's output) but not the part above it, so the part above is rebuilt by
// re-applying the original layers (same weights) to a new input, in the model's topological order.
import * as tf from '@tensorflow/tfjs';

type Sym = tf.SymbolicTensor;

/** The layer's output in the model as loaded (node 0); later nodes are re-uses by our own graphs. */
export function outputOf(model: tf.LayersModel, layer: string): Sym {
  return model.getLayer(layer).getOutputAt(0) as Sym;
}

/** The model from its input to `layer`'s output (shares weights with `model`). */
export function below(model: tf.LayersModel, layer: string): tf.LayersModel {
  return tf.model({ inputs: model.inputs, outputs: outputOf(model, layer), name: `${model.name}_to_${layer}` });
}

/**
 * Re-applies the layers between `from` (a layer name, or null for the model's input) and `to`
 * to `input`, returning the new output. Throws when a layer above the cut also reads a tensor
 * from below it (a residual connection across the cut): the boundary must be a block end.
 */
export function reapply(model: tf.LayersModel, from: string | null, to: string, input: Sym): Sym {
  return reapplyTo(model, from, [to], input)[0]!;
}

/** As `reapply`, returning the new outputs of several layers (all above `from`), in the order asked. */
export function reapplyTo(model: tf.LayersModel, from: string | null, to: string[], input: Sym): Sym[] {
  const start = from === null ? model.inputs[0]! : outputOf(model, from);
  const mapped = new Map<number, Sym>([[start.id, input]]);
  const ends = to.map((name) => (name === from ? start : outputOf(model, name)));
  const all = () => ends.every((e) => mapped.has(e.id));
  if (all()) return ends.map((e) => mapped.get(e.id)!);
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    // Node 0 is the layer's call in the model as loaded; later nodes are our own re-uses.
    const node = layer.inboundNodes[0]!;
    const ins = node.inputTensors;
    const have = ins.filter((t) => mapped.has(t.id)).length;
    if (have === 0) continue;
    if (have < ins.length)
      throw new Error(`"${from}" is not a clean cut: layer "${layer.name}" also reads from below it. Choose the end of a block.`);
    const args = ins.map((t) => mapped.get(t.id)!);
    const out = layer.apply(args.length === 1 ? args[0]! : args) as Sym | Sym[];
    const outs = Array.isArray(out) ? out : [out];
    node.outputTensors.forEach((t, i) => mapped.set(t.id, outs[i]!));
    if (all()) return ends.map((e) => mapped.get(e.id)!);
  }
  throw new Error(`Layer "${to.find((_, i) => !mapped.has(ends[i]!.id))}" is not above "${from}".`);
}

/** The model from `from`'s output to `to`'s output, as its own model (shares weights). */
export function between(model: tf.LayersModel, from: string, to: string): tf.LayersModel {
  const shape = outputOf(model, from).shape;
  const input = tf.input({ shape: shape.slice(1) as number[], name: `${from}_cut_input` });
  return tf.model({ inputs: input, outputs: reapply(model, from, to, input), name: `${from}_to_${to}` });
}

/** Layers whose weights lie strictly above `from` and up to `to`. */
export function layersBetween(model: tf.LayersModel, from: string | null, to: string): tf.layers.Layer[] {
  const names = model.layers.map((l) => l.name);
  const lo = from === null ? 0 : names.indexOf(from) + 1;
  const hi = names.indexOf(to);
  return model.layers.slice(lo, hi + 1);
}

/**
 * The model from a new size×size input to `to`'s output: the same layers and weights applied
 * at another resolution (convolutions do not care), e.g. full fine-tuning at 160 px.
 */
export function resizedTrunk(model: tf.LayersModel, to: string, size: number): tf.LayersModel {
  const channels = (model.inputs[0]!.shape as number[])[3] ?? 3;
  const input = tf.input({ shape: [size, size, channels], name: `pixels_${size}` });
  return tf.model({ inputs: input, outputs: reapply(model, null, to, input), name: `${model.name}_${size}px_to_${to}` });
}
