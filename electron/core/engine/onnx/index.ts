export {
  convertToOnnx,
  convertToOnnxDetailed,
  type ConvertOptions,
  type ConvertedModel,
  type OnnxOutputInfo,
  type OutputSpec,
} from './convert.js';
export { UnsupportedLayerError } from './errors.js';
export { SUPPORTED_LAYER_CLASSES } from './layers.js';
export { runBatches, runBatch, runPipeline, runFeatureBatches, type BatchResult, type PipelineOptions } from './run.js';
