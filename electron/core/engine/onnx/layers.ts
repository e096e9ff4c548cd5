// One ONNX translation per tfjs-layers class, by class name; each group lives in its own module.
import type { Emitter } from './emit-args.js';
import { WEIGHT_LAYERS } from './weight-layers.js';
import { POOLING_LAYERS } from './pooling-layers.js';
import { SHAPE_LAYERS } from './shape-layers.js';
import { ACTIVATION_LAYERS } from './activation-layers.js';

// The training-step graphs (ort-train/) and the pooling gradients pad exactly as these layers do.
export { samePads } from './emit-args.js';

export const EMITTERS: Record<string, Emitter> = { ...WEIGHT_LAYERS, ...POOLING_LAYERS, ...SHAPE_LAYERS, ...ACTIVATION_LAYERS };
