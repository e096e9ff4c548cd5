// "Train again from this run": a new run starts from an earlier run's network rather than the
// pretrained base. The earlier run's saved classifier holds the base's layers under their own
// names (plus its scaling, pooling and head), so each base layer takes the weights of the saved
// layer of the same name and shape — fine-tuned layers come back fine-tuned, frozen ones as they
// were, BatchNorm statistics included. The classifier on top is not carried over: the labels may
// have changed since, and the head is fitted again on the continued network's features.
import type * as tf from '@tensorflow/tfjs';
import type { Base } from './base.js';
import { loadModelFolder } from './model-folder.js';

const sameShape = (a: readonly number[], b: readonly (number | null)[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The base with the earlier run's weights in its layers. Its id changes too ("<base>.from-run-N"):
 * features cached and ONNX sessions kept under the base's id belong to the pretrained network,
 * and must not be mistaken for this one's.
 */
export async function continueFrom(base: Base, modelDir: string, fromRunId: number): Promise<Base> {
  const saved = await loadModelFolder(modelDir);
  try {
    const savedLayers = new Map<string, tf.layers.Layer>(saved.layers.map((l) => [l.name, l]));
    let copied = 0;
    for (const layer of base.model.layers) {
      const from = savedLayers.get(layer.name);
      if (!from || layer.weights.length === 0 || from.weights.length !== layer.weights.length) continue;
      if (!layer.weights.every((w, i) => sameShape(from.weights[i]!.shape as number[], w.shape))) continue;
      layer.setWeights(from.getWeights());
      copied++;
    }
    if (copied === 0)
      throw new Error(`Run ${fromRunId}'s network has no layer of the base "${base.id}", so this run cannot continue from it.`);
    return { ...base, id: `${base.id}.from-run-${fromRunId}` };
  } finally {
    saved.dispose();
  }
}
