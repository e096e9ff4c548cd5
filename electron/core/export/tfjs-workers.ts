// The TF.js half of an export's parity check, on every core: tfjs-wasm runs one thread per
// process in Node (its threaded build is browser-only, tfjs#3830), so each worker thread loads
// the bundle's tfjs/ folder with plain TF.js on wasm and takes batches of test pictures as they
// come. Plain TF.js and nothing of ours in the worker: what loads there loads in anyone's TF.js.
// Worker threads, not processes: tfjs-wasm is pure WebAssembly (the native-module crashes that keep
// training in its own process do not apply), and a thread starts in well under a second.
import os from 'node:os';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Workers at most: each holds the model and its activations (a few hundred MB for a 299 px two-trunk model). */
const MAX_WORKERS = 4;

/** How many workers this machine gets: one per core, at most MAX_WORKERS. */
function tfjsWorkerCount(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(MAX_WORKERS, cores));
}

/** The worker could not run the model on wasm at all (no wasm, a kernel missing): the caller checks another way. */
export class TfjsWorkerUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TfjsWorkerUnavailable';
  }
}

// CommonJS run with eval (no file of its own, so the esbuild bundles need nothing extra); the
// packages come by absolute path from the host's resolution.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
(async () => {
  let model;
  try {
    const started = Date.now();
    const tf = require(workerData.tfjs);
    require(workerData.wasm);
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
    await tf.ready();
    const dir = workerData.dir;
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const specs = [];
    const parts = [];
    for (const group of json.weightsManifest) {
      specs.push(...group.weights);
      for (const p of group.paths) parts.push(fs.readFileSync(path.join(dir, path.basename(p))));
    }
    const all = Buffer.concat(parts);
    const artifacts = {
      modelTopology: json.modelTopology,
      weightSpecs: specs,
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      format: json.format,
    };
    model = json.format === 'graph-model'
      ? await tf.loadGraphModel(tf.io.fromMemory(artifacts))
      : await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const size = workerData.size;
    parentPort.on('message', (m) => {
      try {
        const n = m.count;
        const pixels = new Uint8Array(m.pixels);
        const probs = tf.tidy(() => model.predict(tf.tensor4d(Float32Array.from(pixels), [n, size, size, 3])).dataSync());
        const out = Float32Array.from(probs);
        parentPort.postMessage({ type: 'probs', id: m.id, probs: out.buffer }, [out.buffer]);
      } catch (e) {
        parentPort.postMessage({ type: 'error', id: m.id, message: String((e && e.message) || e) });
      }
    });
    parentPort.postMessage({ type: 'ready', backend: tf.getBackend(), loadMs: Date.now() - started });
  } catch (e) {
    parentPort.postMessage({ type: 'unavailable', message: String((e && e.message) || e) });
  }
})();
`;

type FromWorker =
  | { type: 'ready'; backend: string; loadMs: number }
  | { type: 'probs'; id: number; probs: ArrayBuffer }
  | { type: 'error'; id: number; message: string }
  | { type: 'unavailable'; message: string };

export interface TfjsWorkerOptions {
  /** Folder with model.json + weights (the bundle's tfjs/). */
  dir: string;
  /** The model's square input size. */
  size: number;
  count: number;
  /** Picture i → size×size×3 RGB uint8 (the shipped preprocessing); awaited in order. */
  pixels: (index: number) => Promise<Uint8Array>;
  workers?: number;
  /** Pictures per message: small, so the workers share the pictures evenly and progress moves. */
  batchSize?: number;
  signal?: AbortSignal;
  onImages?: (done: number) => void;
}

export interface TfjsWorkerResult {
  probs: Float32Array[];
  backend: string;
  workers: number;
  /** The slowest worker's start-up (tfjs, wasm, the model). */
  loadMs: number;
}

const require = createRequire(import.meta.url);

/**
 * Probabilities of `count` pictures from the TF.js model in `dir`, in picture order. Rejects with
 * TfjsWorkerUnavailable when no worker could load the model on wasm, with the signal's reason
 * when aborted (every worker is stopped at once), else with the first prediction error.
 */
export async function tfjsInWorkers(opts: TfjsWorkerOptions): Promise<TfjsWorkerResult> {
  const n = Math.max(1, Math.min(opts.workers ?? tfjsWorkerCount(), Math.ceil(opts.count / (opts.batchSize ?? 4))));
  const batchSize = opts.batchSize ?? 4;
  const per = opts.size * opts.size * 3;
  const probs: Float32Array[] = new Array<Float32Array>(opts.count);
  const workerData = {
    tfjs: require.resolve('@tensorflow/tfjs'),
    wasm: require.resolve('@tensorflow/tfjs-backend-wasm'),
    dir: opts.dir,
    size: opts.size,
  };
  const workers: Worker[] = [];
  let next = 0;
  let done = 0;
  let backend = 'wasm';
  let loadMs = 0;
  const stopAll = () => {
    for (const w of workers) void w.terminate();
  };
  if (opts.count === 0) return { probs: [], backend: 'wasm', workers: 0, loadMs: 0 };
  return new Promise<TfjsWorkerResult>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      stopAll();
      reject(err);
    };
    const onAbort = () => fail(opts.signal!.reason instanceof Error ? opts.signal!.reason : new Error('aborted'));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const finishIfDone = () => {
      if (settled || done < opts.count) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      stopAll();
      resolve({ probs, backend, workers: n, loadMs });
    };
    /** Gives worker `w` the next batch, once its pictures are decoded. */
    const feed = async (w: Worker) => {
      if (settled || next >= opts.count) return;
      const start = next;
      const count = Math.min(batchSize, opts.count - start);
      next += count;
      try {
        const buf = new Uint8Array(count * per);
        for (let k = 0; k < count; k++) buf.set(await opts.pixels(start + k), k * per);
        if (settled) return;
        w.postMessage({ id: start, count, pixels: buf.buffer }, [buf.buffer]);
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
      }
    };
    for (let i = 0; i < n; i++) {
      let w: Worker;
      try {
        w = new Worker(WORKER, { eval: true, workerData });
      } catch (err) {
        return fail(new TfjsWorkerUnavailable(`no worker thread: ${(err as Error).message}`));
      }
      workers.push(w);
      w.on('message', (m: FromWorker) => {
        if (m.type === 'unavailable') return fail(new TfjsWorkerUnavailable(m.message));
        if (m.type === 'error') return fail(new Error(m.message));
        if (m.type === 'ready') {
          backend = m.backend;
          loadMs = Math.max(loadMs, m.loadMs);
          return void feed(w);
        }
        const flat = new Float32Array(m.probs);
        const got = Math.min(batchSize, opts.count - m.id);
        const classes = flat.length / got;
        for (let k = 0; k < got; k++) probs[m.id + k] = flat.slice(k * classes, (k + 1) * classes);
        done += got;
        opts.onImages?.(done);
        finishIfDone();
        void feed(w);
      });
      w.on('error', (err) => fail(new TfjsWorkerUnavailable(`worker thread failed: ${err.message}`)));
      w.on('exit', (code) => {
        if (!settled) fail(new TfjsWorkerUnavailable(`worker thread exited (code ${code})`));
      });
    }
  });
}
