// What a run's model carries: the pretrained networks inside it (two for fused features) and what
// each weighs, for the Export view — every network adds its size to each download and its time
// to each prediction. Handler: electron/core/export/model-contents.ts.
import { z } from 'zod';
import { Id } from './schemas.js';

export const ModelTrunk = z.object({
  baseId: z.string(),
  /** The network's name as the list of models shows it. */
  name: z.string(),
  /** Its weights in the exported model at full precision (float32). */
  bytes: z.number().int(),
});

export const ModelContents = z.object({
  /** Input side first: the network the model was trained on, then any other a fused model reads. */
  trunks: z.array(ModelTrunk),
  /** The new classifier's own weights (and the standardisation it carries). */
  classifierBytes: z.number().int(),
  totalBytes: z.number().int(),
});

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R) => ({ args, result });

export const modelContentsCalls = {
  'exports.modelContents': call(z.object({ runId: Id }), ModelContents),
};
