// Adam for the native step: the same update as tf.train.adam (β1 0.9, β2 0.999, ε the backend's
// float32 epsilon, 1e-7), in plain arrays. The native step's gradients arrive as arrays from ONNX
// Runtime; summing micro-batches and updating here skips, per step, a tfjs tensor per gradient
// and per micro-batch sum and the dozen tfjs kernels tf.train.adam launches per variable
// (measured: ~10 times slower than this loop for MobileNetV2's 2.2 M weights on tfjs-wasm).
// The variables stay tfjs variables: each update is written back, so the saved model, the
// evaluation and early stopping's best weights read them as before; the arrays written are kept
// (host-weights.ts) for the next passes to feed ONNX Runtime without reading them back.
import * as tf from '@tensorflow/tfjs';
import { assignHost, hostValues } from './host-weights.js';

export class ArrayAdam {
  private readonly m = new Map<tf.Variable, Float32Array>();
  private readonly v = new Map<tf.Variable, Float32Array>();
  private accBeta1: number;
  private accBeta2: number;

  constructor(
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-7,
  ) {
    this.accBeta1 = beta1;
    this.accBeta2 = beta2;
  }

  /**
   * One update of every variable that has a gradient (`grads` by variable name), as tf.train.adam's
   * applyGradients. `rate(v)` is that variable's learning rate this step (the fine-tuning recipe's
   * schedule and per-layer factors, recipe.ts); default the constructor's. tfjs gets the same with
   * one optimizer per rate whose learningRate is set before each step (loop.ts).
   */
  apply(variables: tf.Variable[], grads: Record<string, Float32Array>, rate: (v: tf.Variable) => number = () => this.learningRate): void {
    const f = Math.fround;
    const [b1, b2, c1, c2] = [f(this.beta1), f(this.beta2), f(1 - this.beta1), f(1 - this.beta2)];
    const [bias1, bias2] = [f(1 - this.accBeta1), f(1 - this.accBeta2)];
    const eps = f(this.epsilon);
    for (const variable of variables) {
      const step = f(-rate(variable));
      const g = grads[variable.name];
      if (!g) continue;
      if (g.length !== variable.size) throw new Error(`${variable.name}: gradient of ${g.length} values for ${variable.size} weights`);
      let m = this.m.get(variable);
      let v = this.v.get(variable);
      if (!m || !v) {
        this.m.set(variable, (m = new Float32Array(variable.size)));
        this.v.set(variable, (v = new Float32Array(variable.size)));
      }
      const w = hostValues(variable);
      const next = new Float32Array(w.length);
      update(next, w, g, m, v, b1, b2, c1, c2, 1 / bias1, 1 / bias2, step, eps);
      assignHost(variable, next);
    }
    this.accBeta1 = f(this.accBeta1 * this.beta1);
    this.accBeta2 = f(this.accBeta2 * this.beta2);
  }
}

/**
 * One variable's update, in doubles rounded to float32 where stored (tfjs rounds after every
 * kernel; the two differ by an ulp or so per step). A function of its own so V8 optimises the loop.
 */
function update(
  next: Float32Array,
  w: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  b1: number,
  b2: number,
  c1: number,
  c2: number,
  unbias1: number,
  unbias2: number,
  step: number,
  eps: number,
): void {
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]!;
    const mi = m[i]! * b1 + gi * c1;
    const vi = v[i]! * b2 + gi * gi * c2;
    m[i] = mi;
    v[i] = vi;
    next[i] = ((mi * unbias1) / (Math.sqrt(vi * unbias2) + eps)) * step + w[i]!;
  }
}
