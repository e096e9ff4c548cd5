// A loaded run model that turns RGB uint8 pixels into class probabilities: ONNX Runtime when the
// model converts (and matches tfjs), tfjs otherwise — and then it says so in `runtime`.
import { runBatch, runPipeline } from '../engine/onnx/index.js';
import { loadClassifierFolder } from '../engine/model-folder.js';
import type { SessionOptions } from '../../../native/onnx-runtime.js';
import { openOnnx, tfjsPredict } from './onnx-model.js';
import type { RunModel } from './run-model.js';

export interface ManyOptions {
  count: number;
  /** Item i → the model's input pixels (decodeForModel's output). */
  decode: (index: number) => Promise<Uint8Array>;
  signal?: AbortSignal;
  onProgress?: (done: number) => void;
  /** A decode failure; the item's probabilities come back as null. */
  onDecodeError: (index: number, err: unknown) => void;
}

export interface Predictor {
  readonly model: RunModel;
  /** 'onnx-<provider>', or 'tfjs (fallback: <why>)'. */
  readonly runtime: string;
  /** Probabilities per image, in the run's label order. */
  predict(pixels: Uint8Array[]): Promise<Float32Array[]>;
  /** Many images, decoding overlapped with inference; null where an image failed to decode. */
  predictMany(opts: ManyOptions): Promise<(Float32Array | null)[]>;
  dispose(): Promise<void>;
}

/** Images per inference call: ORT's throughput on 2 cores levels off around 16 (native/onnx-runtime.ts). */
export const BATCH = 16;

function rows(flat: Float32Array, count: number): Float32Array[] {
  const per = flat.length / count;
  return Array.from({ length: count }, (_, i) => flat.slice(i * per, (i + 1) * per));
}

export async function loadPredictor(model: RunModel, sessionOptions: SessionOptions = {}): Promise<Predictor> {
  const size = model.inputSize;
  const hwc: [number, number, number] = [size, size, 3];
  const outcome = await openOnnx(model.folder, size, sessionOptions);
  if (outcome.kind === 'onnx') {
    const session = outcome.session.session;
    const output = session.outputNames[0]!;
    return {
      model,
      runtime: `onnx-${outcome.session.provider}`,
      async predict(pixels) {
        return rows((await runBatch(session, pixels, hwc))[output]!.data, pixels.length);
      },
      async predictMany(opts) {
        const failed = new Set<number>();
        const result = await runPipeline(session, {
          batchSize: BATCH,
          count: opts.count,
          decode: opts.decode,
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
          onDecodeError: (i, err) => {
            failed.add(i);
            opts.onDecodeError(i, err);
            return null;
          },
        });
        return rows(result.outputs[output]!, opts.count).map((r, i) => (failed.has(i) ? null : r));
      },
      dispose: () => session.release(),
    };
  }

  const net = outcome.model ?? (await loadClassifierFolder(model.folder));
  return {
    model,
    runtime: `tfjs (fallback: ${outcome.reason})`,
    async predict(pixels) {
      return rows(tfjsPredict(net, pixels, size), pixels.length);
    },
    async predictMany(opts) {
      const out: (Float32Array | null)[] = new Array<Float32Array | null>(opts.count).fill(null);
      const decodeOne = (i: number) =>
        opts.decode(i).catch((err: unknown) => {
          opts.onDecodeError(i, err);
          return null;
        });
      // The next batch decodes (sharp, off the main thread) while tfjs runs this one.
      let next = Array.from({ length: Math.min(BATCH, opts.count) }, (_, k) => decodeOne(k));
      for (let start = 0; start < opts.count; start += BATCH) {
        opts.signal?.throwIfAborted();
        const decoded = await Promise.all(next);
        const after = start + BATCH;
        next = Array.from({ length: Math.max(0, Math.min(BATCH, opts.count - after)) }, (_, k) => decodeOne(after + k));
        const present = decoded.map((d, k) => ({ d, i: start + k })).filter((x): x is { d: Uint8Array; i: number } => x.d !== null);
        if (present.length) {
          const probs = rows(
            tfjsPredict(
              net,
              present.map((x) => x.d),
              size,
            ),
            present.length,
          );
          present.forEach((x, k) => (out[x.i] = probs[k]!));
        }
        opts.onProgress?.(Math.min(after, opts.count));
        // Let a cancel (or any other call) through between batches.
        await new Promise<void>((r) => setImmediate(r));
      }
      return out;
    },
    async dispose() {
      net.dispose();
    },
  };
}
