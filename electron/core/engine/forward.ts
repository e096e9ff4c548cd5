// Frozen forward passes, in ONNX Runtime (10–20× faster than tfjs-wasm on MobileNetV2, and it
// uses every core) or in tfjs; which one a run uses is the compute plan's choice (compute-plan.ts).
// Both take RGB uint8 pixels and return, per requested output, one Float32Array per image;
// pooled outputs are averaged over H and W.
import * as tf from '@tensorflow/tfjs';
import type { Base } from './base.js';
import { scaleOffset } from '../models/scaling.js';
import { convertToOnnxDetailed } from './onnx/index.js';
import { runBatch } from './onnx/run.js';
import { createOnnxSession, type OnnxSession } from '../../../native/onnx-runtime.js';
import { outputOf } from './graph.js';

export interface OutputRequest {
  layer: string;
  /** true (or 'avg'): averaged over H and W; 'max': its maximum; false: the whole map. */
  pool: boolean | 'avg' | 'max';
}

/** The pooling an output request asks for, in the converter's words. */
export function poolOf(o: OutputRequest): 'none' | 'avg' | 'max' {
  return o.pool === 'max' ? 'max' : o.pool ? 'avg' : 'none';
}

export interface FrozenForward {
  /** 'onnx-<provider>' or the tfjs backend name. */
  readonly runtime: string;
  /** Why ONNX Runtime is not used, when it is not. */
  readonly fallbackReason: string | null;
  /** The ONNX Runtime session's provider and why the others were not used (absent on tfjs). */
  readonly onnx?: Pick<OnnxSession, 'provider' | 'skipped'>;
  run(pixels: Uint8Array[]): Promise<Float32Array[][]>;
  dispose(): Promise<void>;
}

const sessions = new Map<string, Promise<{ session: OnnxSession; names: string[] }>>();

function onnxFor(base: Base, outputs: OutputRequest[]) {
  const key = `${base.id}|${outputs.map((o) => `${o.layer}:${poolOf(o)}`).join(',')}`;
  let entry = sessions.get(key);
  if (!entry) {
    entry = (async () => {
      const converted = convertToOnnxDetailed(base.model, {
        inputScaling: base.scaling,
        outputs: outputs.map((o) => ({ layer: o.layer, pool: poolOf(o) })),
      });
      const session = await createOnnxSession(converted.bytes);
      return { session, names: converted.outputs.map((o) => o.name) };
    })();
    sessions.set(key, entry);
    entry.catch(() => sessions.delete(key));
  }
  return entry;
}

/** The frozen pass in tfjs on the current backend; `reason` says why not in ONNX Runtime. */
export function tfjsFrozenForward(base: Base, outputs: OutputRequest[], reason: string | null): FrozenForward {
  const model = tf.model({ inputs: base.model.inputs, outputs: outputs.map((o) => outputOf(base.model, o.layer)) });
  const size = base.inputSize;
  const { scale, offset } = scaleOffset(base.scaling);
  return {
    runtime: tf.getBackend(),
    fallbackReason: reason,
    async run(pixels) {
      const per = size * size * 3;
      const buf = new Float32Array(pixels.length * per);
      pixels.forEach((p, i) => {
        for (let k = 0; k < per; k++) buf[i * per + k] = p[k]! * scale + offset;
      });
      const flats = tf.tidy(() => {
        const ys = model.predict(tf.tensor4d(buf, [pixels.length, size, size, 3])) as tf.Tensor | tf.Tensor[];
        return (Array.isArray(ys) ? ys : [ys]).map((y, k) => {
          const pool = poolOf(outputs[k]!);
          return (pool === 'avg' ? tf.mean(y, [1, 2]) : pool === 'max' ? tf.max(y, [1, 2]) : y).dataSync() as Float32Array;
        });
      });
      return flats.map((flat) => {
        const each = flat.length / pixels.length;
        return pixels.map((_, i) => flat.slice(i * each, (i + 1) * each));
      });
    },
    async dispose() {},
  };
}

/** The frozen pass in ONNX Runtime; throws when the part does not convert or no session opens. */
export async function onnxFrozenForward(base: Base, outputs: OutputRequest[]): Promise<FrozenForward> {
  const onnx = await onnxFor(base, outputs);
  const size = base.inputSize;
  return {
    runtime: `onnx-${onnx.session.provider}`,
    fallbackReason: null,
    onnx: { provider: onnx.session.provider, skipped: onnx.session.skipped },
    async run(pixels) {
      const result = await runBatch(onnx.session.session, pixels, [size, size, 3]);
      return onnx.names.map((name) => {
        const { data, perImage } = result[name]!;
        return pixels.map((_, i) => data.slice(i * perImage, (i + 1) * perImage));
      });
    },
    // Sessions are kept for the process's life: the next run on the same base reuses them.
    async dispose() {},
  };
}
