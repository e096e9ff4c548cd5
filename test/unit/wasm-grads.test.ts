// Our gradient kernels vs stock tfjs-cpu, with the big products in ONNX Runtime (the default).
import { defineGradientTests } from './wasm-grads.cases.js';

defineGradientTests(true);
