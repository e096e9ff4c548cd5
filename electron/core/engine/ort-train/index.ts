// Native training steps (ONNX Runtime): opening one for a run and the loop's hooks. Whether a
// run uses them is the compute plan's decision (../compute-plan.ts).
import os from 'node:os';
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

/** Images per native pass: ORT keeps a step's activations in ordinary memory, a quarter of RAM at most. */
export function nativeStepBudget(): number {
  return Math.min(8 * 2 ** 30, os.totalmem() / 4);
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
    nativeStep: async (samples: number[], labels: number[], weight: Float32Array, epoch: number, step: number) => {
      const { data, shape } = await read(samples, epoch, true);
      return trainer.step(data, shape, labels, weight, head.dropoutMask(samples.length, step));
    },
    nativePredict: async (samples: number[]) => {
      const { data, shape } = await read(samples, 0, false);
      return trainer.predict(data, shape);
    },
  };
}
