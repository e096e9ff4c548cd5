// A graph-model base (strategy 3 only): its features computed in tfjs, and the saved classifier
// composed as one tfjs graph model — pixels 0..255 → the base's scaling → the base up to the
// feature node → average pooling → the trained head → probabilities. One model, like a layers
// run's, so prediction, export and the web demo load it with tf.loadGraphModel and nothing else.
// (ONNX Runtime is not used for these: our converter reads layers models only.)
import * as tf from '@tensorflow/tfjs';
import type { GraphBase } from './base.js';
import type { FrozenForward, OutputRequest } from './forward.js';
import type { Head } from './head.js';
import { readModelArtifacts } from './model-folder.js';
import { scaleOffset } from '../models/scaling.js';

export const CLASSIFIER_INPUT = 'pixels';
export const CLASSIFIER_OUTPUT = 'probabilities';

/** pixels (0..255, NHWC float32) → the base's range, with the ops the composed graph uses (Mul, then Add). */
function scaled(base: GraphBase, x: tf.Tensor): tf.Tensor {
  const { scale, offset } = scaleOffset(base.scaling);
  return tf.add(tf.mul(x, tf.scalar(scale)), tf.scalar(offset));
}

/** Frozen pass of a graph base in tfjs: the requested nodes' outputs, 4-D ones pooled when asked. */
export function graphForward(base: GraphBase, outputs: OutputRequest[]): FrozenForward {
  const size = base.inputSize;
  return {
    runtime: `${tf.getBackend()} (graph model: features in tfjs; strategy 3 only)`,
    fallbackReason: null,
    async run(pixels) {
      const per = size * size * 3;
      const buf = new Float32Array(pixels.length * per);
      pixels.forEach((p, i) => buf.set(p, i * per));
      const input = tf.tidy(() => scaled(base, tf.tensor4d(buf, [pixels.length, size, size, 3])));
      let ys: tf.Tensor[];
      try {
        ys = await execute(
          base.graph,
          input,
          outputs.map((o) => o.layer),
        );
      } finally {
        input.dispose();
      }
      const flats = tf.tidy(() =>
        ys.map(
          (y, k) => (outputs[k]!.pool && y.rank === 4 ? tf.mean(y, [1, 2]) : y.reshape([pixels.length, -1])).dataSync() as Float32Array,
        ),
      );
      tf.dispose(ys);
      return flats.map((flat) => {
        const each = flat.length / pixels.length;
        return pixels.map((_, i) => flat.slice(i * each, (i + 1) * each));
      });
    },
    async dispose() {},
  };
}

/** execute() for plain graphs (executeAsync warns on every call then); executeAsync for control flow. */
async function execute(graph: tf.GraphModel, x: tf.Tensor, nodes: string[]): Promise<tf.Tensor[]> {
  let got: tf.Tensor | tf.Tensor[];
  try {
    got = graph.execute(x, nodes);
  } catch {
    got = await graph.executeAsync(x, nodes);
  }
  return Array.isArray(got) ? got : [got];
}

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
  device?: string;
}

interface GraphTopology {
  node: GraphNode[];
  library?: unknown;
  versions?: unknown;
}

const FLOAT = { type: 'DT_FLOAT' };
const shapeOf = (dims: number[]) => ({ dim: dims.map((size) => ({ size: String(size) })) });
const nodeOf = (ref: string) => ref.replace(/^\^/, '').replace(/:\d+$/, '');

function constNode(name: string, t: tf.Tensor): GraphNode {
  const dtype = t.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT';
  return { name, op: 'Const', attr: { dtype: { type: dtype }, value: { tensor: { dtype, tensorShape: shapeOf(t.shape) } } } };
}

/**
 * The saved classifier of a graph-base run as tfjs ModelArtifacts ('graph-model'): the base's
 * graph, pruned to what the feature node needs, fed by a new `pixels` input through the base's
 * scaling, and ending in the head as graph ops with a `probabilities` output.
 */
export async function composeGraphClassifier(base: GraphBase, featureNode: string, head: Head): Promise<tf.io.ModelArtifacts> {
  const source = readModelArtifacts(base.dir);
  const topology = source.modelTopology as GraphTopology;
  const byName = new Map(topology.node.map((n) => [n.name, n]));
  if (!byName.has(nodeOf(featureNode))) throw new Error(`The graph model has no node "${featureNode}".`);
  for (const name of [CLASSIFIER_INPUT, CLASSIFIER_OUTPUT])
    if (byName.has(name)) throw new Error(`The graph model already has a node named "${name}"; it cannot be composed with a head.`);

  // Only the nodes the feature node depends on: the base's own classifier and other outputs go.
  const keep = new Set<string>();
  const stack = [nodeOf(featureNode)];
  while (stack.length) {
    const name = stack.pop()!;
    if (keep.has(name)) continue;
    const node = byName.get(name);
    if (!node) throw new Error(`The graph model refers to a missing node "${name}".`);
    keep.add(name);
    for (const i of node.input ?? []) stack.push(nodeOf(i));
  }

  const { scale, offset } = scaleOffset(base.scaling);
  const spec = head.spec();
  const s = base.inputSize;
  const tensors: Record<string, tf.Tensor> = {
    'studio/scale': tf.scalar(scale),
    'studio/offset': tf.scalar(offset),
    'studio/head_mean': tf.tensor1d(spec.mean),
    'studio/head_inv_std': tf.tensor1d(spec.invStd),
    'studio/head_classes_kernel': spec.out.kernel,
    'studio/head_classes_bias': spec.out.bias,
  };
  // Every node must feed the output: tfjs takes any node without consumers for an output.
  const featureRank = await featureRankOf(base, featureNode);
  if (featureRank === 4) tensors['studio/pool_axes'] = tf.tensor1d([1, 2], 'int32');
  if (spec.hidden) {
    tensors['studio/head_hidden_kernel'] = spec.hidden.kernel;
    tensors['studio/head_hidden_bias'] = spec.hidden.bias;
  }
  const binary = (name: string, op: string, a: string, b: string): GraphNode => ({ name, op, input: [a, b], attr: { T: FLOAT } });
  const nodes: GraphNode[] = [
    { name: CLASSIFIER_INPUT, op: 'Placeholder', attr: { dtype: FLOAT, shape: { shape: shapeOf([-1, s, s, 3]) } } },
    ...Object.entries(tensors).map(([name, t]) => constNode(name, t)),
    binary('studio/scaled', 'Mul', CLASSIFIER_INPUT, 'studio/scale'),
    binary('studio/input_scaling', 'Add', 'studio/scaled', 'studio/offset'),
  ];
  for (const node of topology.node) {
    if (!keep.has(node.name)) continue;
    // The base's image input now reads the scaled pixels.
    if (node.op === 'Placeholder') nodes.push({ name: node.name, op: 'Identity', input: ['studio/input_scaling'], attr: { T: FLOAT } });
    else nodes.push(node);
  }
  let h = featureNode;
  if (featureRank === 4) {
    nodes.push({
      name: 'studio/head_pool',
      op: 'Mean',
      input: [featureNode, 'studio/pool_axes'],
      attr: { T: FLOAT, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } },
    });
    h = 'studio/head_pool';
  }
  nodes.push(binary('studio/head_centered', 'Sub', h, 'studio/head_mean'));
  nodes.push(binary('studio/head_standardized', 'Mul', 'studio/head_centered', 'studio/head_inv_std'));
  h = 'studio/head_standardized';
  const dense = (name: string, input: string): string => {
    nodes.push({
      name: `${name}/matmul`,
      op: 'MatMul',
      input: [input, `${name}_kernel`],
      attr: { T: FLOAT, transpose_a: { b: false }, transpose_b: { b: false } },
    });
    nodes.push(binary(`${name}/bias_add`, 'BiasAdd', `${name}/matmul`, `${name}_bias`));
    return `${name}/bias_add`;
  };
  if (spec.hidden) {
    nodes.push({ name: 'studio/head_hidden/relu', op: 'Relu', input: [dense('studio/head_hidden', h)], attr: { T: FLOAT } });
    h = 'studio/head_hidden/relu';
  }
  nodes.push({ name: CLASSIFIER_OUTPUT, op: 'Softmax', input: [dense('studio/head_classes', h)], attr: { T: FLOAT } });

  // Weights: the kept base constants (dequantized to float32 if the source was quantized) and the head's.
  const baseWeights = tf.io.decodeWeights(source.weightData!, source.weightSpecs ?? []);
  const named: tf.NamedTensorMap = {};
  for (const [name, t] of Object.entries(baseWeights)) if (keep.has(name)) named[name] = t;
  Object.assign(named, tensors);
  const encoded = await tf.io.encodeWeights(named);
  tf.dispose(Object.values(baseWeights));
  // The kernels and biases are the head's own variables; the rest were made here.
  const headOwned = new Set<tf.Tensor>([spec.out.kernel, spec.out.bias, ...(spec.hidden ? [spec.hidden.kernel, spec.hidden.bias] : [])]);
  tf.dispose(Object.values(tensors).filter((t) => !headOwned.has(t)));
  return {
    format: 'graph-model',
    generatedBy: source.generatedBy ?? 'TensorFlow graph',
    convertedBy: 'Transfer Studio (graph base + trained head)',
    modelTopology: { node: nodes, library: topology.library ?? {}, versions: topology.versions ?? {} },
    weightSpecs: encoded.specs,
    weightData: encoded.data,
  };
}

/** The feature node's rank, from one pass on a blank image (graph signatures often omit shapes). */
async function featureRankOf(base: GraphBase, featureNode: string): Promise<number> {
  const blank = tf.zeros([1, base.inputSize, base.inputSize, 3]);
  try {
    const [y] = await execute(base.graph, blank, [featureNode]);
    const rank = y!.rank;
    y!.dispose();
    return rank;
  } finally {
    blank.dispose();
  }
}
