// Runs an export's parity check: every test picture through the bundle's TF.js model (plain
// TF.js on wasm, one worker thread per core, fed by the example's preprocessing), then through its
// ONNX model (by the shipped Node example's own code, ONNX Runtime on every core), then each judged against
// the app's answers (parity.ts) — by default the answers the run recorded when it finished
// (app-predict.ts: recordedPredictions), so the app does not predict every picture a third time.
// Should an artefact disagree with the record, the app predicts now and the artefacts are judged
// against that instead, with the usual threshold: the record only ever saves time, never lets
// through what the fresh answers would fail.
import path from 'node:path';
import { StudioError } from '../../shared/contract.js';
import { RECORDED_DECIMALS } from '../eval/run-evaluation.js';
import {
  accuracyOf,
  FLOAT_MAX_ABS_DIFF,
  judge,
  summarise,
  tfjsFromBundle,
  withNodeExample,
  type Artefact,
  type ParityReport,
} from './parity.js';
import { tfjsInWorkers } from './tfjs-workers.js';

/** What the artefacts are compared with: the app's answers, as recorded with the run or predicted now. */
export interface Reference {
  probs: Float32Array[];
  /** How the app computed them ('onnx-cpu', 'tfjs (fallback: …)', or the run's record). */
  runtime: string;
  source: 'recorded' | 'app';
}

/**
 * The threshold against the record: its probabilities are rounded to RECORDED_DECIMALS, so half
 * a unit of the last kept decimal comes off the allowance, and a pass still means every
 * probability is within FLOAT_MAX_ABS_DIFF of what the run computed.
 */
export const RECORDED_TOLERANCE = FLOAT_MAX_ABS_DIFF - 0.5 * 10 ** -RECORDED_DECIMALS;

export interface ParityRunInput {
  /** The staged export folder (model.onnx, tfjs/, signature.json, labels.json). */
  bundleDir: string;
  /** The Node example whose code runs the ONNX check and whose preprocessing feeds both. */
  exampleFile: string;
  files: string[];
  truth: number[];
  size: number;
  onnx: boolean;
  tfjs: boolean;
  /** The TF.js weights are 8-bit: judged by test accuracy (minAccuracy), not closeness. */
  quantized: boolean;
  minAccuracy: number | null;
  reference: Reference;
  /** The app's own predictions made now; asked for only when the record and an artefact disagree. */
  predictWithApp: () => Promise<Reference>;
  signal?: AbortSignal;
  /** `within`: how far the check is (0..1); `detail`: what it is doing, in words. */
  onProgress?: (within: number, detail: string) => void;
}

export interface ParityRunResult {
  parity: ParityReport;
  /** What the artefacts were finally judged against. */
  reference: Reference;
  /** Seconds of each part, for the benchmark (parts overlap). */
  timings: { phase: string; ms: number }[];
  tfjsBackend: string | null;
}

/** Pictures per call of the example's classify: the ONNX check reports progress and sees a Cancel between them. */
const ONNX_CHUNK = 16;
/** Pictures decoded ahead of the TF.js workers. */
const DECODE_AHEAD = 8;
/** TF.js on wasm takes about five times ONNX Runtime's CPU time per picture here: the weights of the two in the progress bar. */
const WEIGHT = { onnx: 1, tfjs: 5 };

const cancelled = () => new StudioError('cancelled', 'The export was cancelled.');

export async function runParityCheck(input: ParityRunInput): Promise<ParityRunResult> {
  const { files, size, signal } = input;
  const count = files.length;
  const timings: { phase: string; ms: number }[] = [];
  const started = performance.now();
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      timings.push({ phase, ms: performance.now() - t0 });
    }
  };
  // A Cancel stops the TF.js workers at once and the ONNX pass at its next few pictures.
  const stop = new AbortController();
  const onAbort = () => stop.abort(cancelled());
  if (signal?.aborted) throw cancelled();
  signal?.addEventListener('abort', onAbort, { once: true });

  const done = { onnx: 0, tfjs: 0 };
  let active: 'onnx' | 'tfjs' = input.tfjs ? 'tfjs' : 'onnx';
  const report = () => {
    const total = (input.onnx ? WEIGHT.onnx : 0) + (input.tfjs ? WEIGHT.tfjs : 0);
    const within = total === 0 || count === 0 ? 1 : (done.onnx * WEIGHT.onnx + done.tfjs * WEIGHT.tfjs) / (count * total);
    const what = active === 'tfjs' ? 'for websites' : 'for apps';
    input.onProgress?.(within, `checking the model ${what}: ${done[active]} of ${count} test pictures`);
  };
  report();

  try {
    const got = await withNodeExample(input.exampleFile, async (example) => {
      // Each picture decoded once for TF.js, a few ahead of the workers, by the example's own preprocessing.
      const decoded = new Map<number, Promise<Uint8Array>>();
      const pixels = (i: number): Promise<Uint8Array> => {
        for (let k = i; k < Math.min(count, i + DECODE_AHEAD); k++)
          if (!decoded.has(k)) {
            const p = example.preprocess(files[k]!, size);
            // Awaited when its turn comes; a picture that fails to decode must not fail the process before then.
            p.catch(() => {});
            decoded.set(k, p);
          }
        const p = decoded.get(i)!;
        decoded.delete(i);
        return p;
      };

      const onnxCheck = async (): Promise<Float32Array[]> => {
        const model = await example.loadModel(input.bundleDir);
        try {
          const out: Float32Array[] = [];
          for (let i = 0; i < count; i += ONNX_CHUNK) {
            if (stop.signal.aborted) throw stop.signal.reason;
            const results = await example.classify(model, files.slice(i, i + ONNX_CHUNK));
            out.push(...results.map((r) => Float32Array.from(r.probabilities)));
            done.onnx = out.length;
            report();
          }
          return out;
        } finally {
          await model.session.release();
        }
      };

      let tfjsBackend: string | null = null;
      const tfjsCheck = async (): Promise<Float32Array[]> => {
        try {
          const r = await tfjsInWorkers({
            dir: path.join(input.bundleDir, 'tfjs'),
            size,
            count,
            pixels,
            signal: stop.signal,
            onImages: (n) => {
              done.tfjs = n;
              report();
            },
          });
          tfjsBackend = `${r.backend} ×${r.workers}`;
          timings.push({ phase: 'TF.js workers start-up (part of the TF.js check)', ms: r.loadMs });
          return r.probs;
        } catch (err) {
          if (stop.signal.aborted) throw stop.signal.reason;
          // No worker could run it (no wasm there, a kernel wasm lacks): in this process, on wasm
          // else the plain-JS backend — slower, never unchecked. A real fault in the model fails there too.
          process.stderr.write(`export: TF.js check in this process (${err instanceof Error ? err.message : String(err)})\n`);
          done.tfjs = 0;
          const r = await tfjsFromBundle(input.bundleDir, size, files, input.exampleFile, {
            onImages: (n) => {
              done.tfjs = n;
              report();
            },
          });
          tfjsBackend = r.backend;
          return r.probs;
        }
      };

      // One after the other, each on every core: ONNX Runtime's threads wait for each other by
      // spinning, so beside busy TF.js workers its pass took several times as long (measured).
      const tfjs = input.tfjs ? await timed('checking parity: TF.js', tfjsCheck) : null;
      active = 'onnx';
      if (input.onnx) report();
      const onnx = input.onnx ? await timed('checking parity: ONNX (Node example)', onnxCheck) : null;
      return { onnx, tfjs, tfjsBackend };
    });
    if (signal?.aborted) throw cancelled();

    const judgeAll = (ref: Reference) => {
      const tolerance = ref.source === 'recorded' ? RECORDED_TOLERANCE : FLOAT_MAX_ABS_DIFF;
      const list: [Artefact, Float32Array[] | null, boolean][] = [
        ['onnx', got.onnx, false],
        ['tfjs', got.tfjs, input.quantized],
      ];
      const artefacts = list
        .filter(([, probs]) => probs !== null)
        .map(([name, probs, quantized]) =>
          judge(name, quantized, ref.probs, probs!, input.truth, quantized ? input.minAccuracy : null, tolerance),
        );
      return summarise(artefacts, accuracyOf(ref.probs, input.truth), count);
    };
    let reference = input.reference;
    let parity = judgeAll(reference);
    // Closeness is what the record can vouch for; a quantized model's accuracy does not depend on it.
    if (reference.source === 'recorded' && parity.artefacts.some((a) => !a.passed && !a.quantized)) {
      input.onProgress?.(1, `checking against the app's own answers on ${count} test pictures`);
      reference = await timed('predicting with the app (the record disagreed)', input.predictWithApp);
      if (signal?.aborted) throw cancelled();
      parity = judgeAll(reference);
    }
    timings.push({ phase: 'checking parity (whole)', ms: performance.now() - started });
    return { parity, reference, timings, tfjsBackend: got.tfjsBackend };
  } catch (err) {
    if (signal?.aborted) throw cancelled();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
