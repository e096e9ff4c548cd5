// The big matrix products of our gradient kernels, in ONNX Runtime: native code on every core
// (AVX2/AVX-512 where the CPU has them), where tfjs-wasm runs 128-bit SIMD on one thread.
// tfjs kernels are synchronous and ORT's run is not, so a worker thread owns the ORT sessions
// and the kernel hands it the operands through shared memory, then sleeps on Atomics.wait until
// the product is back. This is how training puts the second core to work.
//
// Memory is reused across calls on both sides: on some machines (this one) first-touching fresh
// pages costs more than the product itself.
import os from 'node:os';
import { createRequire } from 'node:module';
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { GraphBuilder, DataType } from '../onnx/graph-builder.js';

export interface NativeGemm {
  /** Threads ONNX Runtime uses for each product. */
  readonly threads: number;
  /** Products computed so far. */
  readonly products: number;
  /**
   * out = op(A)·op(B), op = transpose when asked. A is aRows×aCols and B bRows×bCols as stored
   * (row-major). Throws when the worker failed; the caller then computes it itself.
   */
  gemm(
    a: Float32Array,
    aRows: number,
    aCols: number,
    transA: boolean,
    b: Float32Array,
    bRows: number,
    bCols: number,
    transB: boolean,
    out: Float32Array,
  ): void;
  close(): void;
}

/** A product smaller than this (multiply-adds) stays in wasm: the hand-over costs ~0.2 ms. */
export const NATIVE_MIN_MACS = 4_000_000;

function gemmModel(transA: number, transB: number): Uint8Array {
  const b = new GraphBuilder();
  b.addInput('A', DataType.FLOAT, ['a0', 'a1']);
  b.addInput('B', DataType.FLOAT, ['b0', 'b1']);
  b.reserve('A');
  b.reserve('B');
  b.node('Gemm', ['A', 'B'], { transA, transB }, 'Y', 1, ['Y']);
  b.addOutput('Y', DataType.FLOAT, ['y0', 'y1']);
  return b.encode('gemm', 'Transfer Studio gradient matMul');
}

// ctrl: [state, op, aRows, aCols, bRows, bCols, outLength]; state 0 = waiting, 1 = done, 2 = failed.
const WORKER = `
const { workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const ctrl = new Int32Array(workerData.ctrl);
const port = workerData.port;
let data = null;
let keep = new Float32Array(0);
const scratch = (n) => { if (keep.length < n) keep = new Float32Array(Math.max(n, Math.ceil(keep.length * 1.5))); return keep; };
const finish = (state) => { Atomics.store(ctrl, 0, state); Atomics.notify(ctrl, 0); };
(async () => {
  const options = { intraOpNumThreads: workerData.threads, interOpNumThreads: 1, executionMode: 'sequential', extra: { session: { intra_op: { allow_spinning: '0' } } } };
  const sessions = [];
  for (const m of workerData.models) sessions.push(await ort.InferenceSession.create(m, options));
  port.on('message', async (m) => {
    if (m && m.buffer) { data = new Float32Array(m.buffer); finish(1); return; }
    try {
      const [, op, ar, ac, br, bc] = ctrl;
      const na = ar * ac, nb = br * bc;
      const buf = scratch(na + nb);
      buf.set(data.subarray(0, na + nb));
      const out = await sessions[op].run({ A: new ort.Tensor('float32', buf.subarray(0, na), [ar, ac]), B: new ort.Tensor('float32', buf.subarray(na, na + nb), [br, bc]) });
      const y = out.Y.data;
      data.set(y, na + nb);
      ctrl[6] = y.length;
      finish(1);
    } catch (e) {
      port.postMessage(String(e && e.message || e));
      finish(2);
    }
  });
  finish(1);
})().catch((e) => { port.postMessage(String(e && e.message || e)); finish(2); });
`;

let shared: NativeGemm | null | undefined;

/** The process's native matMul, started on first use; null when ONNX Runtime cannot run here. */
export function nativeGemm(): NativeGemm | null {
  if (shared !== undefined) return shared;
  try {
    shared = start();
  } catch {
    shared = null;
  }
  return shared;
}

function start(): NativeGemm {
  const threads = Math.max(1, os.availableParallelism());
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  const ctrlBuf = new SharedArrayBuffer(7 * 4);
  const ctrl = new Int32Array(ctrlBuf);
  const { port1, port2 } = new MessageChannel();
  const models = [gemmModel(0, 0), gemmModel(1, 0), gemmModel(0, 1), gemmModel(1, 1)];
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { ctrl: ctrlBuf, port: port2, ortPath, threads, models },
    transferList: [port2 as unknown as MessagePort],
  });
  let lastError = 'the ONNX Runtime worker stopped';
  port1.on('message', (m: string) => (lastError = m));
  // Neither may keep the process alive (unref after the listener: listening refs a port).
  worker.unref();
  port1.unref();
  worker.on('error', (e) => (lastError = e.message));
  let dead = false;
  worker.on('exit', () => (dead = true));

  /** Waits for the worker's answer (it sets ctrl[0] to 1 or 2). */
  const wait = (what: string) => {
    for (let waited = 0; Atomics.load(ctrl, 0) === 0; waited += 1000) {
      if (dead || waited > 120_000) throw new Error(`Native matMul: ${what} failed (${lastError}).`);
      Atomics.wait(ctrl, 0, 0, 1000);
    }
    const state = Atomics.exchange(ctrl, 0, 0);
    if (state !== 1) throw new Error(`Native matMul: ${what} failed (${lastError}).`);
  };
  wait('start-up');
  let data: Float32Array<ArrayBufferLike> = new Float32Array(0);
  const ensure = (floats: number) => {
    if (data.length >= floats) return;
    data = new Float32Array(new SharedArrayBuffer(Math.ceil(floats * 1.25) * 4));
    data.fill(0); // touch every page once, here, rather than in each product
    port1.postMessage({ buffer: data.buffer });
    wait('a buffer hand-over');
  };
  let products = 0;
  return {
    threads,
    get products() {
      return products;
    },
    gemm(a, aRows, aCols, transA, b, bRows, bCols, transB, out) {
      if (dead) throw new Error(`Native matMul: ${lastError}.`);
      const na = aRows * aCols;
      const nb = bRows * bCols;
      ensure(na + nb + out.length);
      data.set(a.subarray(0, na), 0);
      data.set(b.subarray(0, nb), na);
      ctrl.set([0, (transA ? 1 : 0) + (transB ? 2 : 0), aRows, aCols, bRows, bCols, 0]);
      port1.postMessage(null);
      wait('a product');
      if (ctrl[6] !== out.length) throw new Error(`Native matMul: got ${ctrl[6]} values, expected ${out.length}.`);
      out.set(data.subarray(na + nb, na + nb + out.length));
      products++;
    },
    close() {
      dead = true;
      void worker.terminate();
    },
  };
}
