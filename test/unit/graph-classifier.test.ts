// The saved classifier of a graph-base run is composed as graph ops (graph-classifier.ts); it
// must give what training computed: the graph's features (pooled when 4-D) through the head.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBase, type GraphBase } from '../../electron/core/engine/base.js';
import { composeGraphClassifier, graphForward } from '../../electron/core/engine/graph-classifier.js';
import { Head, featureStats } from '../../electron/core/engine/head.js';
import { writeTinyGraphFolder, TINY_GRAPH_SIZE as S } from '../fixtures/tiny-graph.js';

let tmp: string;
let base: GraphBase;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-classifier-'));
  await writeTinyGraphFolder(tmp);
  const spec = { id: 'g', inputSize: S, scaling: { from: [0, 255], to: [-1, 1] }, featureLayer: 'pool', blocks: [], probePoints: ['pool'] };
  base = (await loadBase({ dir: tmp, spec: spec as never, format: 'graph' })) as GraphBase;
});

afterAll(() => {
  base.graph.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('composeGraphClassifier', () => {
  for (const featureNode of ['relu', 'pool']) {
    it(`gives the training pipeline's probabilities with features at "${featureNode}" (${featureNode === 'relu' ? '4-D, pooled' : '2-D'})`, async () => {
      const pixels = [0, 1, 2, 3].map((seed) =>
        Uint8Array.from((tf.randomUniform([S * S * 3], 0, 256, 'int32', seed) as tf.Tensor).dataSync()),
      );
      const [features] = await graphForward(base, [{ layer: featureNode, pool: true }]).run(pixels);
      expect(features![0]!.length).toBe(8);
      const head = new Head(8, 3, { denseUnits: 4, dropout: 0.2 }, 7, featureStats(features!));
      const want = tf.tidy(
        () =>
          head
            .apply(
              tf.tensor2d(
                features!.flatMap((f) => [...f]),
                [4, 8],
              ),
              false,
              0,
            )
            .arraySync() as number[][],
      );

      const artifacts = await composeGraphClassifier(base, featureNode, head);
      const names = (artifacts.modelTopology as { node: { name: string }[] }).node.map((n) => n.name);
      // The base's own classifier is pruned; the only output is the head's.
      expect(names).not.toContain('probs');
      expect(names).not.toContain('logits');
      const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
      expect(model.outputs.map((o) => o.name)).toEqual(['probabilities']);
      const x = tf.tensor4d(Float32Array.from(pixels.flatMap((p) => [...p])), [4, S, S, 3]);
      const got = (model.predict(x) as tf.Tensor).arraySync() as number[][];
      for (let i = 0; i < 4; i++) for (let c = 0; c < 3; c++) expect(got[i]![c]).toBeCloseTo(want[i]![c]!, 5);
      x.dispose();
      model.dispose();
      head.dispose();
    });
  }
});
