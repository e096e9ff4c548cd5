// Runs step graphs (step-graph.ts) in ONNX Runtime: feeds the batch and the variables' current
// values, returns the loss, the probabilities and the gradients as arrays for the optimizer
// (ArrayAdam). A second graph, the forward pass alone, predicts: evaluation is native too.
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { createOnnxSession, type OnnxSession, type ProviderName } from '../../../../native/onnx-runtime.js';
import { buildStepGraph, type HeadSpec, type StepGraph } from './step-graph.js';
import { hostValues } from './host-weights.js';
import { smoothedTargets } from '../recipe.js';

export interface NativeStepResult {
  loss: number;
  /** Class probabilities, row per sample. */
  probs: Float32Array;
  /** Gradients by variable name, as ONNX Runtime returned them (the caller may sum into them). */
  grads: Record<string, Float32Array>;
}

export class OrtTrainer {
  private constructor(
    readonly graph: StepGraph,
    private readonly session: ort.InferenceSession,
    private readonly predictor: ort.InferenceSession,
    /** Threads ORT runs each step on. */
    readonly threads: number,
    /** The execution provider the step runs on, and those tried before it with why they failed. */
    readonly provider: ProviderName,
    readonly skipped: OnnxSession['skipped'],
  ) {}

  /**
   * Builds and opens the step graph on the first provider of `providers` (the compute plan's
   * order, fastest first) that loads it; throws NotCoveredError when a layer is not covered.
   */
  static async open(
    trunk: tf.LayersModel,
    head: HeadSpec,
    trainable: tf.Variable[],
    providers: ProviderName[] = ['cpu'],
  ): Promise<OrtTrainer> {
    const graph = buildStepGraph(trunk, head, trainable);
    const prediction = buildStepGraph(trunk, head, trainable, { gradients: false });
    const threads = Math.max(1, os.availableParallelism());
    // Spinning on, as ORT's default: the step is the only heavy work while it runs. No memory
    // pattern: with it ORT kept one block for the step's whole plan, and a micro-batch of 3
    // images of MobileNetV2 at 224 px peaked at 1091 MB resident; without it the arena reuses
    // what the backward pass frees, 766 MB (scratch measurement, one process, same graph).
    const step = await createOnnxSession(graph.model, { threads, providers, spinning: true, quiet: true, memoryPattern: false });
    const predictor = await createOnnxSession(prediction.model, { threads, providers: [step.provider], spinning: true, quiet: true });
    return new OrtTrainer(graph, step.session, predictor.session, threads, step.provider, step.skipped);
  }

  /** The batch and every trainable variable's current value (read from tfjs once per update: host-weights.ts). */
  private feeds(x: Float32Array, shape: number[]): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', x, shape) };
    for (const p of this.graph.params) feeds[p.input] = new ort.Tensor('float32', hostValues(p.variable), p.variable.shape as number[]);
    return feeds;
  }

  /**
   * One forward and backward pass. `weight[i]` is sample i's share of the loss (its class weight
   * over the whole batch's total); `dropoutMask` is the head's scaled keep-mask (n × featureDim);
   * `smoothing` is the loss's label smoothing ε: the graph's cross-entropy and its gradient take
   * any target distribution, so the smoothed targets are simply what its `labels` input is fed.
   */
  async step(
    x: Float32Array,
    shape: number[],
    labels: number[],
    weight: Float32Array,
    dropoutMask: Float32Array | null,
    smoothing = 0,
  ): Promise<NativeStepResult> {
    const n = shape[0]!;
    const feeds = this.feeds(x, shape);
    feeds.labels = new ort.Tensor('float32', smoothedTargets(labels, this.graph.classes, smoothing), [n, this.graph.classes]);
    feeds.weight = new ort.Tensor('float32', weight, [n]);
    if (this.graph.dropout) {
      if (!dropoutMask || dropoutMask.length !== n * this.graph.featureDim)
        throw new Error('the step graph needs a dropout mask of n × features');
      feeds.dropout_mask = new ort.Tensor('float32', dropoutMask, [n, this.graph.featureDim]);
    }
    const out = await this.session.run(feeds);
    const grads: Record<string, Float32Array> = {};
    for (const p of this.graph.params) grads[p.variable.name] = out[p.grad]!.data as Float32Array;
    return { loss: (out.loss!.data as Float32Array)[0]!, probs: out.probs!.data as Float32Array, grads };
  }

  /** Class probabilities (inference: no dropout), row per sample. */
  async predict(x: Float32Array, shape: number[]): Promise<Float32Array> {
    const out = await this.predictor.run(this.feeds(x, shape));
    return out.probs!.data as Float32Array;
  }

  dispose(): void {
    void this.session.release();
    void this.predictor.release();
  }
}
