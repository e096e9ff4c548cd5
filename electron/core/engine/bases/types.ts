// The metadata.json written next to every base model folder (built-in ones by
// build/bases/build-bases.ts). The engine and the wizard read only this, never nsfwjs.

/** Linear map of pixel values: uint8 [from[0], from[1]] → [to[0], to[1]]. */
export interface InputScaling {
  from: [number, number];
  to: [number, number];
}

export interface BaseBlock {
  name: string;
  /** Layer whose output ends the block: a strategy-2 boundary and a linear-probe point. */
  layer: string;
  /** Output shape without the batch dimension, channels last: [H, W, C]. */
  outputShape: number[];
  /** MobileNetV2: the block's expansion activation (the DESIGN's "block 13's expansion"). */
  expandLayer?: string;
  expandOutputShape?: number[];
}

export interface BaseInfo {
  id: string;
  name: string;
  /** Square input side in pixels; the model takes RGB uint8 at this size (the one input contract). */
  inputSize: number;
  /**
   * Where pixels get scaled. The tfjs model folder holds the network as nsfwjs shipped it and
   * expects already-scaled floats: the engine applies `scaling` in tfjs (see applyScaling), and
   * the ONNX converter puts the same arithmetic inside the ONNX graph, so every exported model
   * takes raw uint8.
   */
  scaling: InputScaling;
  /** The model's output layer: the last convolutional feature map (not pooled). */
  featureLayer: string;
  featureShape: number[];
  blocks: BaseBlock[];
  source: string;
  strategies: number[];
  /** sha256 over the sources and the build step's version; the build skips when it matches. */
  sourceHash: string;
  /** Files in the folder with their sizes, for a quick integrity check. */
  files: { path: string; bytes: number }[];
}
