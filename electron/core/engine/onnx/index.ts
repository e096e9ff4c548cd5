export { convertToOnnx, convertToOnnxDetailed, type OutputSpec } from './convert.js';
export { UnsupportedLayerError } from './errors.js';
export { runBatches, runBatch, runPipeline, runFeatureBatches } from './run.js';
