// How many images one forward/backward pass may take so a training step fits in memory.
// tfjs keeps every intermediate tensor of a step for the backward pass; on tfjs-wasm, whose
// memory ends at 4 GB, that is what limits the batch. Measured: MobileNetV2 at 224 px has 84 MB
// of layer outputs per image and a full step kept 2.75 GB at 8 images — about 4× the outputs.
import type * as tf from '@tensorflow/tfjs';

const KEPT_PER_OUTPUT_BYTE = 4;
/** What one pass may keep: leaves room below wasm's 4 GB for weights, optimizer state and copies. */
export const STEP_BUDGET_BYTES = 1.5 * 2 ** 30;

/**
 * Bytes of layer outputs per image for a model (its input shape fixes the spatial sizes). Read
 * from the model's own graph nodes: a layer shared with another graph (a base re-applied at
 * another size or above a cut) has one output shape per graph.
 */
export function outputBytesPerImage(model: tf.LayersModel): number {
  const byDepth = (model as unknown as { nodesByDepth: Record<string, { outputTensors: tf.SymbolicTensor[] }[]> }).nodesByDepth;
  let floats = 0;
  for (const nodes of Object.values(byDepth)) {
    for (const node of nodes) for (const t of node.outputTensors) floats += t.shape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
  }
  return floats * 4;
}

/** Images per pass for training `model` with this batch size (1…batchSize). */
export function microBatchFor(model: tf.LayersModel, batchSize: number, budget = STEP_BUDGET_BYTES): number {
  const perImage = outputBytesPerImage(model) * KEPT_PER_OUTPUT_BYTE;
  return Math.max(1, Math.min(batchSize, Math.floor(budget / perImage)));
}
