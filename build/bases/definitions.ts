// What the build step makes of each nsfwjs model. The layer names are those of the Keras
// models nsfwjs ships (Keras 2.2.4 applications, fine-tuned by the nsfwjs project).

export interface BlockRule {
  /** Shown in the wizard, e.g. "block_13". */
  name: string;
  /** The layer whose output ends the block (the strategy-2 boundary / probe point). */
  layer: string;
  /** MobileNetV2 only: the block's expansion activation, a probe point inside the block. */
  expandLayer?: string;
}

export interface BaseDefinition {
  id: 'mobilenet_v2' | 'inception_v3';
  name: string;
  /** Folder under node_modules/nsfwjs/dist/models. */
  nsfwjsFolder: string;
  inputSize: number;
  /**
   * The base's output: the last convolutional feature map, NOT pooled. The engine's head
   * (global pooling, dropout, dense, softmax) sits on top, and strategy 2 needs the map.
   */
  featureLayer: string;
  blocks: BlockRule[];
}

function mobilenetBlocks(): BlockRule[] {
  // Blocks with a residual connection end in block_N_add; the stride-2 and channel-changing
  // ones (1, 3, 6, 10, 13, 16) end in their projection's BatchNorm.
  const withoutAdd = new Set([1, 3, 6, 10, 13, 16]);
  const blocks: BlockRule[] = [{ name: 'block_0', layer: 'expanded_conv_project_BN' }];
  for (let n = 1; n <= 16; n++) {
    blocks.push({
      name: `block_${n}`,
      layer: withoutAdd.has(n) ? `block_${n}_project_BN` : `block_${n}_add`,
      expandLayer: `block_${n}_expand_relu`,
    });
  }
  blocks.push({ name: 'out_relu', layer: 'out_relu' });
  return blocks;
}

function inceptionBlocks(): BlockRule[] {
  const blocks: BlockRule[] = [];
  for (let n = 0; n <= 10; n++) blocks.push({ name: `mixed${n}`, layer: `mixed${n}` });
  return blocks;
}

export const BASE_DEFINITIONS: readonly BaseDefinition[] = [
  {
    id: 'mobilenet_v2',
    name: 'MobileNetV2',
    nsfwjsFolder: 'mobilenet_v2',
    inputSize: 224,
    featureLayer: 'out_relu',
    blocks: mobilenetBlocks(),
  },
  {
    id: 'inception_v3',
    name: 'InceptionV3',
    nsfwjsFolder: 'inception_v3',
    inputSize: 299,
    featureLayer: 'mixed10',
    blocks: inceptionBlocks(),
  },
];
