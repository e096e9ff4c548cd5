// Our gradient kernels vs stock tfjs-cpu, everything in wasm (where ONNX Runtime cannot run).
import { defineGradientTests } from './wasm-grads.cases.js';

defineGradientTests(false);
