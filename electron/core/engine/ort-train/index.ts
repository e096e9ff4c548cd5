// Native training steps (ONNX Runtime): opening one for a run and the loop's hooks. Whether a
// run uses them is the compute plan's decision (../compute-plan.ts).
import * as tf from '@tensorflow/tfjs';
import type { Head } from '../head.js';
import { NotCoveredError } from './step-graph.js';
import { OrtTrainer } from './ort-step.js';
import type { ProviderName } from '../../../../native/onnx-runtime.js';

export { OrtTrainer } from './ort-step.js';
export { COVERED_LAYERS } from './step-graph.js';

/**
 * A native trainer for `net` + `head`, or why there is none: a layer it does not cover, or ONNX
 * Runtime refusing the graph. Either way the run goes on in tfjs, and says why.
 */
export async function openNativeTrainer(
  net: tf.LayersModel,
  head: Head,
  variables: tf.Variable[],
  providers: ProviderName[] = ['cpu'],
): Promise<{ trainer: OrtTrainer } | { reason: string }> {
  try {
    return { trainer: await OrtTrainer.open(net, head.spec(), variables, providers) };
  } catch (err) {
    if (err instanceof NotCoveredError) return { reason: err.message };
    const message = err instanceof Error ? err.message : String(err);
    return { reason: `ONNX Runtime could not open the training step (${message.split('\n')[0]!.slice(0, 200)})` };
  }
}

/** The run record's words for where fine-tuning ran. */
export function nativeWords(trainer: OrtTrainer): string {
  const where = trainer.provider === 'cpu' ? '' : ` (${trainer.provider})`;
  return `ONNX Runtime${where}: the whole training step natively on ${trainer.threads} thread${trainer.threads === 1 ? '' : 's'}`;
}

/**
 * What one native pass may keep, in microBatchFor's terms (4 bytes kept per byte of layer output).
 * Measured (bench:train, MobileNetV2 strategy 1 at 224 px, batch 16): one pass of all 16 images
 * peaked at 4.25 GB resident — the whole batch's activations live until the backward pass ends;
 * with this budget (3 images per pass) the same row peaked at 1.2 GB, 0.72 GB once the step's
 * session ran without ORT's memory pattern (ort-step.ts), and 0.62 GB with BatchNorm folded into the
 * convolutions and ReLU masks read from outputs (layer-steps.ts). Passes of 8 images peaked at
 * 0.88 GB and, measured once on a busy machine, took more CPU for the same 16 images (14.8 s
 * against 10.8 s with 3), so the budget stays. The loop sums the passes'
 * gradients and applies Adam once, so the gradient is the whole batch's (the head's dropout mask
 * is drawn per pass, as on the tfjs path). Strategy 2 (block_16 on cached maps) still takes
 * whole batches. It used to be a quarter of RAM, which let a 16 GB laptop spend 4 GB on one step.
 */
export const NATIVE_STEP_BUDGET_BYTES = 2 ** 30;

export function nativeStepBudget(): number {
  return NATIVE_STEP_BUDGET_BYTES;
}

/**
 * The loop's native hooks for a trainer: batches come from the spec's own `batch` (the same
 * pixels or cached maps, the same augmentation), the dropout mask from the head's seed.
 */
export function nativeHooks(trainer: OrtTrainer, head: Head, batch: (samples: number[], epoch: number, training: boolean) => tf.Tensor) {
  const read = async (samples: number[], epoch: number, training: boolean) => {
    const x = tf.tidy(() => batch(samples, epoch, training));
    try {
      return { data: (await x.data()) as Float32Array, shape: x.shape as number[] };
    } finally {
      x.dispose();
    }
  };
  return {
    nativeStep: async (samples: number[], labels: number[], weight: Float32Array, epoch: number, step: number, smoothing: number) => {
      const { data, shape } = await read(samples, epoch, true);
      return trainer.step(data, shape, labels, weight, head.dropoutMask(samples.length, step), smoothing);
    },
    nativePredict: async (samples: number[]) => {
      const { data, shape } = await read(samples, 0, false);
      return trainer.predict(data, shape);
    },
  };
}
