// tfjs layers model → ONNX. Walks the live model's graph (layers, inbound nodes, symbolic
// tensors) from the requested outputs back to the input, so only the layers those outputs
// need are converted (and must be convertible): converting "the frozen part below a
// boundary" is just asking for the boundary's output.
//
// Input contract: an image model's ONNX input is `image`, RGB uint8 NHWC [N, H, W, 3]; the
// graph casts to float and applies the base's scaling, so callers feed decoded pixels as they
// are. Outputs are in tfjs's (channels-last) layout.
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder, DataType, type Value } from './graph-builder.js';
import { EMITTERS } from './layers.js';
import { UnsupportedLayerError } from './errors.js';
import { scalingSteps, type InputScaling } from '../../models/scaling.js';

/** A layer whose output the ONNX model should return; pooled = global average/max over H, W. */
export type OutputSpec = string | { layer: string; pool?: 'none' | 'avg' | 'max'; name?: string };

export interface ConvertOptions {
  /** Required for image models (input [N, H, W, 3]); ignored for others (e.g. a head on features). */
  inputScaling?: InputScaling | null;
  /** Convert only up to this layer (a strategy-2 boundary); its output is the model's output. */
  upTo?: string;
  /** Several outputs in one pass; overrides upTo. Default: the model's own outputs. */
  outputs?: OutputSpec[];
  /** Graph name; default the model's name. */
  name?: string;
}

export interface OnnxOutputInfo {
  /** ONNX output name: the layer name, or `<layer>_avg` / `<layer>_max` when pooled. */
  name: string;
  layer: string;
  pool: 'none' | 'avg' | 'max';
  /** Shape in tfjs layout, batch as null. */
  shape: (number | null)[];
}

export interface ConvertedModel {
  bytes: Uint8Array;
  input: { name: string; type: 'uint8' | 'float32'; shape: (number | null)[] };
  outputs: OnnxOutputInfo[];
}

interface LayerInternals {
  inboundNodes: { inputTensors: tf.SymbolicTensor[]; outputTensors: tf.SymbolicTensor[] }[];
}
const nodesOf = (layer: tf.layers.Layer): LayerInternals['inboundNodes'] => (layer as unknown as LayerInternals).inboundNodes;

const isModel = (layer: tf.layers.Layer): layer is tf.LayersModel => layer instanceof tf.LayersModel;

/** Converts one (sub)model's graph: a scope per model, children for nested models called on new tensors. */
class Scope {
  private readonly memo = new Map<number, Value>();
  private readonly consumers = new Map<number, number>();
  private readonly children = new Map<string, Scope>();

  constructor(
    private readonly b: GraphBuilder,
    readonly model: tf.LayersModel,
    inputValues: Value[],
    private readonly requested: Set<number>,
    extraRoots: tf.SymbolicTensor[],
  ) {
    model.inputs.forEach((t, i) => this.memo.set(t.id, inputValues[i]!));
    this.countConsumers([...model.outputs, ...extraRoots]);
  }

  /** How many converted nodes read each tensor, so BatchNorm folds only into private convolutions. */
  private countConsumers(roots: tf.SymbolicTensor[]): void {
    const seenNodes = new Set<string>();
    const seenTensors = new Set<number>();
    const stack = [...roots];
    while (stack.length > 0) {
      const t = stack.pop()!;
      if (seenTensors.has(t.id) || this.memo.has(t.id)) continue;
      seenTensors.add(t.id);
      const key = `${t.sourceLayer.id}:${t.nodeIndex}`;
      if (seenNodes.has(key)) continue;
      seenNodes.add(key);
      const node = nodesOf(t.sourceLayer)[t.nodeIndex];
      if (!node) continue;
      for (const input of node.inputTensors) {
        this.consumers.set(input.id, (this.consumers.get(input.id) ?? 0) + 1);
        stack.push(input);
      }
    }
  }

  child(layer: tf.LayersModel, nodeIndex: number): Scope {
    const key = `${layer.id}:${nodeIndex}`;
    let scope = this.children.get(key);
    if (!scope) {
      const node = nodesOf(layer)[nodeIndex]!;
      const inputs = node.inputTensors.map((t) => this.valueOf(t));
      scope = new Scope(this.b, layer, inputs, this.requested, []);
      this.children.set(key, scope);
    }
    return scope;
  }

  valueOf(t: tf.SymbolicTensor): Value {
    const hit = this.memo.get(t.id);
    if (hit) return hit;
    const layer = t.sourceLayer;
    let outputs: Value[];
    if (isModel(layer)) {
      const scope = this.child(layer, t.nodeIndex);
      outputs = layer.outputs.map((o) => scope.valueOf(o));
    } else {
      outputs = this.emit(layer, t.nodeIndex);
    }
    const node = nodesOf(layer)[t.nodeIndex]!;
    node.outputTensors.forEach((o, i) => this.memo.set(o.id, outputs[i]!));
    const v = this.memo.get(t.id);
    if (!v) throw new UnsupportedLayerError(layer.name, layer.getClassName(), 'produced no value');
    return v;
  }

  private emit(layer: tf.layers.Layer, nodeIndex: number): Value[] {
    const className = layer.getClassName();
    if (className === 'InputLayer')
      throw new UnsupportedLayerError(layer.name, className, 'a second input; only single-input models convert');
    const emitter = EMITTERS[className];
    if (!emitter) throw new UnsupportedLayerError(layer.name, className);
    const node = nodesOf(layer)[nodeIndex]!;
    const inputs = node.inputTensors.map((t) => this.valueOf(t));
    const first = node.inputTensors[0];
    const inputIsPrivate = first !== undefined && (this.consumers.get(first.id) ?? 0) <= 1 && !this.requested.has(first.id);
    return emitter({
      b: this.b,
      layer,
      className,
      config: layer.getConfig() as Record<string, unknown>,
      inputs,
      outShapes: node.outputTensors.map((o) => o.shape),
      inputIsPrivate,
    });
  }
}

/** Finds a layer by name, also inside nested models; returns the chain of models to it. */
function findLayer(model: tf.LayersModel, name: string): { path: tf.LayersModel[]; layer: tf.layers.Layer } | null {
  for (const layer of model.layers) {
    if (layer.name === name) return { path: [], layer };
  }
  for (const layer of model.layers) {
    if (isModel(layer)) {
      const inner = findLayer(layer, name);
      if (inner) return { path: [layer, ...inner.path], layer: inner.layer };
    }
  }
  return null;
}

interface ResolvedOutput {
  spec: { layer: string; pool: 'none' | 'avg' | 'max'; name: string };
  path: tf.LayersModel[];
  tensor: tf.SymbolicTensor;
}

function resolveOutputs(model: tf.LayersModel, opts: ConvertOptions): ResolvedOutput[] {
  if (!opts.outputs && !opts.upTo) {
    // The model's own outputs (a Sequential has no outputLayers, but always has outputs).
    return model.outputs.map((tensor) => ({
      spec: { layer: tensor.sourceLayer.name, pool: 'none' as const, name: tensor.sourceLayer.name },
      path: [],
      tensor,
    }));
  }
  const specs: OutputSpec[] = opts.outputs ?? [opts.upTo!];
  if (specs.length === 0) throw new Error('no outputs requested');
  return specs.map((s) => {
    const spec = typeof s === 'string' ? { layer: s, pool: 'none' as const } : { layer: s.layer, pool: s.pool ?? 'none', name: s.name };
    const found = findLayer(model, spec.layer);
    if (!found) throw new Error(`layer "${spec.layer}" is not in model "${model.name}"`);
    const nodes = nodesOf(found.layer);
    // A model's own layers have one node; a layer of a nested model called on new tensors
    // still has its node 0 inside the nested model's graph.
    const tensor = nodes[0]!.outputTensors[0]!;
    const name = spec.name ?? (spec.pool === 'none' ? spec.layer : `${spec.layer}_${spec.pool}`);
    return { spec: { layer: spec.layer, pool: spec.pool, name }, path: found.path, tensor };
  });
}

export function convertToOnnxDetailed(model: tf.LayersModel, opts: ConvertOptions = {}): ConvertedModel {
  if (model.inputs.length !== 1) throw new Error(`only single-input models convert (model has ${model.inputs.length} inputs)`);
  const b = new GraphBuilder();
  const keras = model.inputs[0]!.shape;
  const isImage = keras.length === 4 && keras[3] === 3;
  let inputValue: Value;
  let input: ConvertedModel['input'];
  if (isImage) {
    if (!opts.inputScaling) throw new Error('inputScaling is required to convert an image model (the scaling goes inside the ONNX graph)');
    b.reserve('image');
    b.addInput('image', DataType.UINT8, ['N', keras[1]!, keras[2]!, 3]);
    input = { name: 'image', type: 'uint8', shape: [null, keras[1]!, keras[2]!, 3] };
    // Transpose while still uint8 (a quarter of the bytes), then scale exactly as applyScaling does.
    let x = b.one('Transpose', ['image'], { perm: [0, 3, 1, 2] }, 'image_nchw');
    x = b.one('Cast', [x], { to: DataType.FLOAT }, 'image_float');
    const { shift, divisor, offset } = scalingSteps(opts.inputScaling);
    if (shift !== 0) x = b.one('Sub', [x, b.scalar('scaling_shift', shift)], {}, 'scaled');
    if (divisor !== 1) x = b.one('Div', [x, b.scalar('scaling_divisor', divisor)], {}, 'scaled');
    if (offset !== 0) x = b.one('Add', [x, b.scalar('scaling_offset', offset)], {}, 'scaled');
    inputValue = { name: x, shape: keras, layout: 'nchw' };
  } else {
    b.reserve('input');
    b.addInput(
      'input',
      DataType.FLOAT,
      keras.map((d, i) => (i === 0 ? 'N' : d)),
    );
    input = { name: 'input', type: 'float32', shape: keras };
    inputValue = { name: 'input', shape: keras, layout: 'keras' };
  }

  const resolved = resolveOutputs(model, opts);
  // Output names are the layer names; reserve them before any node can take one.
  for (const r of resolved) b.reserve(r.spec.name);
  const requested = new Set(resolved.map((r) => r.tensor.id));
  const root = new Scope(
    b,
    model,
    [inputValue],
    requested,
    resolved.filter((r) => r.path.length === 0).map((r) => r.tensor),
  );
  const outputs: OnnxOutputInfo[] = [];
  for (const r of resolved) {
    // Walk into nested models: called on new tensors → its own scope; used as-is (e.g. the
    // first layer of a Sequential) → its tensors are the outer graph's.
    let scope = root;
    for (const m of r.path) {
      const nodes = nodesOf(m);
      if (nodes.length > 1) scope = scope.child(m, nodes.length - 1);
    }
    let v = scope.valueOf(r.tensor);
    let shape = r.tensor.shape;
    if (r.spec.pool !== 'none' && v.shape.length === 4) {
      const x = b.toNchw(v);
      const pooled = b.one(r.spec.pool === 'avg' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], {}, `${r.spec.name}_pool`);
      shape = [null, v.shape[3]!];
      v = { name: b.one('Flatten', [pooled], { axis: 1 }, `${r.spec.name}_flat`), shape, layout: 'keras' };
    }
    v = b.toKeras(v);
    b.node('Identity', [v.name], {}, r.spec.name, 1, [r.spec.name]);
    b.addOutput(
      r.spec.name,
      DataType.FLOAT,
      shape.map((d, i) => (i === 0 ? 'N' : d)),
    );
    outputs.push({ name: r.spec.name, layer: r.spec.layer, pool: r.spec.pool, shape });
  }
  const bytes = b.encode(opts.name ?? model.name, `converted from tfjs layers model "${model.name}" by Transfer Studio`);
  return { bytes, input, outputs };
}

/** The ONNX model as protobuf bytes. Throws UnsupportedLayerError naming a layer it cannot convert. */
export function convertToOnnx(model: tf.LayersModel, opts: ConvertOptions = {}): Uint8Array {
  return convertToOnnxDetailed(model, opts).bytes;
}
