// The native step's layout (ort-train/layer-steps.ts): every activation is channels-first, as
// ONNX Runtime's CPU convolutions and pooling want it, so no Transpose runs on an activation
// between layers. Channels-last, each convolution and pooling sat between two Transposes forward
// and two backward — 21.5% of a MobileNetV2 step in ORT's profile. The one Transpose left on the
// batch's path is the input's, at the entry; the kernel gradients' swaps of dz's last two axes
// feed matrix products only, and ORT folds those into the product (checked on its optimised graph).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { Head } from '../../electron/core/engine/head.js';
import { buildStepGraph } from '../../electron/core/engine/ort-train/step-graph.js';

const L = tf.layers;
const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-step-layout-'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A MobileNetV2-like block and the other covered layers: every kind of layer that has a layout. */
function network() {
  const input = tf.input({ shape: [12, 12, 3] });
  const relu6 = (x: tf.SymbolicTensor) => apply(L.reLU({ maxValue: 6 }), apply(L.batchNormalization({}), x));
  const stem = relu6(apply(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }), input));
  const expand = relu6(apply(L.conv2d({ filters: 16, kernelSize: 1, useBias: false }), stem));
  const padded = apply(
    L.zeroPadding2d({
      padding: [
        [0, 1],
        [0, 1],
      ],
    }),
    expand,
  );
  const depthwise = relu6(apply(L.depthwiseConv2d({ kernelSize: 3, strides: 2, useBias: false }), padded));
  const project = apply(L.batchNormalization({}), apply(L.conv2d({ filters: 8, kernelSize: 1, useBias: false }), depthwise));
  const residual = apply(L.add(), [project, apply(L.conv2d({ filters: 8, kernelSize: 1 }), apply(L.maxPooling2d({ poolSize: 2 }), stem))]);
  const both = apply(L.concatenate(), [residual, apply(L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }), residual)]);
  // A 2×2 map of 16 channels into 40: strategy 2's top block in small, whose kernel gradient swaps batch and channels.
  const wide = apply(L.conv2d({ filters: 40, kernelSize: 1 }), apply(L.maxPooling2d({ poolSize: 2 }), both));
  const net = tf.model({ inputs: input, outputs: apply(L.conv2d({ filters: 12, kernelSize: 1, activation: 'relu' }), wide) });
  const head = new Head(12, 3, { denseUnits: 0, dropout: 0.2 }, 1);
  return { net, head, variables: [...net.trainableWeights.map((w) => w.read() as tf.Variable), ...head.variables()] };
}

interface Graph {
  nodes: { op: string; inputs: string[]; outputs: string[] }[];
}

function graphOf(bytes: Uint8Array): Graph {
  const g = onnxProto.onnx.ModelProto.decode(bytes).graph!;
  return { nodes: g.node!.map((n) => ({ op: n.opType!, inputs: n.input ?? [], outputs: n.output ?? [] })) };
}

/** Ops a kernel's gradient is made of once the activations are read: what a Transpose may feed. */
const KERNEL_GRADIENT = new Set(['Reshape', 'MatMul', 'Gemm', 'FusedMatMul', 'ReduceSum', 'Concat', 'Identity']);

/**
 * Transposes of a value computed from the batch (not a weight's), other than the input's own at
 * the entry, whose result reaches anything but a kernel's gradient (a convolution, pooling, an
 * elementwise op, the next layer).
 */
function activationTransposes(g: Graph): string[] {
  const fromBatch = new Set(['x']);
  for (const n of g.nodes) if (n.inputs.some((i) => fromBatch.has(i))) n.outputs.forEach((o) => fromBatch.add(o));
  const consumers = new Map<string, Graph['nodes']>();
  for (const n of g.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  // A finished kernel gradient ('dk', in Keras's layout) is weight-sized: what it feeds (the
  // BatchNorm fold's scaling) is no activation's business.
  const finished = (n: Graph['nodes'][number]) => n.op === 'Reshape' && n.outputs.some((o) => /^dk(__\d+)?$/.test(o));
  const reaches = (value: string, seen = new Set<string>()): string[] =>
    (consumers.get(value) ?? []).flatMap((n) => {
      if (finished(n)) return [];
      // A depthwise kernel's gradient as one grouped Conv reads x and dz with batch and channels swapped.
      if (n.op === 'Conv' && n.outputs.some((o) => o.startsWith('dk_depthwise'))) return [];
      if (!KERNEL_GRADIENT.has(n.op)) return [n.op];
      return n.outputs.filter((o) => !seen.has(o) && seen.add(o)).flatMap((o) => reaches(o, seen));
    });
  return g.nodes
    .filter((n) => n.op === 'Transpose' && n.inputs[0] !== 'x' && fromBatch.has(n.inputs[0]!))
    .map((n) => ({ n, to: reaches(n.outputs[0]!) }))
    .filter(({ to }) => to.length > 0)
    .map(({ n, to }) => `${n.inputs[0]} → Transpose → ${[...new Set(to)].join(', ')}`);
}

it('the emitted step graph transposes no activation into a convolution, pooling or elementwise op', () => {
  const { net, head, variables } = network();
  for (const gradients of [true, false]) {
    const graph = graphOf(buildStepGraph(net, head.spec(), variables, { gradients }).model);
    expect(graph.nodes.some((n) => n.op === 'Conv')).toBe(true);
    expect(activationTransposes(graph)).toEqual([]);
  }
});

it('after ORT optimises the step, the only Transpose on the batch is the entry one', async () => {
  const { net, head, variables } = network();
  const file = path.join(dir, 'optimised.onnx');
  const session = await ort.InferenceSession.create(buildStepGraph(net, head.spec(), variables).model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    optimizedModelFilePath: file,
    logSeverityLevel: 3,
  });
  await session.release();
  const g = graphOf(fs.readFileSync(file));
  expect(activationTransposes(g)).toEqual([]);
});

it('a convolution and the BatchNorm that alone reads it run as one Conv: no per-channel Mul on an activation forward', () => {
  const { net, head, variables } = network();
  const graph = graphOf(buildStepGraph(net, head.spec(), variables, { gradients: false }).model);
  // The forward pass up to the head's pooling: every node fed (through others) from the batch.
  const fromBatch = new Set(['x']);
  const ops: string[] = [];
  for (const n of graph.nodes) {
    if (n.op === 'ReduceMean' || !n.inputs.some((i) => fromBatch.has(i))) continue;
    ops.push(n.op);
    n.outputs.forEach((o) => fromBatch.add(o));
  }
  expect(ops.filter((op) => op === 'Conv')).toHaveLength(net.layers.filter((l) => /Conv2D$/.test(l.getClassName())).length);
  expect(ops).not.toContain('Mul');
});
