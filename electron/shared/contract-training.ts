// Training calls and events, to be merged into contract.ts (calls/events tables) by the lead.
// Handlers: electron/core/training/service.ts (TrainingService) + splits.ts + runs.ts.
import { z } from 'zod';
import { byName, Id } from './schemas.js';

export const Strategy = z.enum(['head', 'partial', 'full']);
export const RunStatus = z.enum(['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted']);
const LayerName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_./-]+$/, 'Not a layer name');
export const BaseId = z.string().regex(/^[a-z0-9_.-]{1,64}$/i, 'Not a base model id');

export const Augmentation = z.object({
  flip: z.boolean(),
  rotateDeg: z.number().min(0).max(45),
  zoom: z.number().min(0).max(0.5),
  brightness: z.number().min(0).max(0.5),
  contrast: z.number().min(0).max(0.5),
});

/** What "Advanced" can override; anything absent comes from the wizard or the defaults. */
export const TrainOverrides = z
  .object({
    featureLayer: LayerName.nullable(),
    boundary: LayerName.nullable(),
    epochs: z.number().int().min(1).max(10_000),
    warmupEpochs: z.number().int().min(0).max(1000),
    lr: z.number().positive().max(1),
    headLr: z.number().positive().max(1),
    /** The main phase's learning rate over its steps (engine/recipe.ts). */
    lrSchedule: z.enum(['constant', 'cosine']),
    /** Strategies 1–2: the lowest trained layer's fraction of the learning rate, rising to 1 at the top. */
    lowestLayerLr: z.number().positive().max(1),
    /** Label smoothing ε of the training loss. */
    labelSmoothing: z.number().min(0).max(0.5),
    batchSize: z.number().int().min(1).max(1024),
    denseUnits: z.number().int().min(0).max(4096),
    headFit: z.enum(['convex', 'adam']),
    dropout: z.number().min(0).max(0.9),
    /** Strategy 3 on fused features: probe points (base, layer) whose pooled average and max are concatenated. */
    fused: z
      .array(z.object({ base: z.string().min(1).max(200), layer: LayerName }))
      .min(1)
      .max(16)
      .nullable(),
    l2: z.number().min(0).max(10),
    augmentation: Augmentation,
    augmentedVariants: z.number().int().min(0).max(20),
    classWeights: z.boolean(),
    patience: z.number().int().min(1).max(10_000),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1),
    resetWeights: z.boolean(),
  })
  .partial();

/** A run's settings in full: every override, and the strategy. @public for clients of the contract. */
export const TrainConfig = TrainOverrides.required().extend({
  strategy: Strategy,
  // Runs saved before fused features existed have none.
  fused: TrainOverrides.shape.fused.unwrap().nullable().optional(),
  // The fine-tuning recipe's settings: a plan that leaves them out gets its strategy's defaults.
  lrSchedule: TrainOverrides.shape.lrSchedule.unwrap().optional(),
  lowestLayerLr: TrainOverrides.shape.lowestLayerLr.unwrap().optional(),
  labelSmoothing: TrainOverrides.shape.labelSmoothing.unwrap().optional(),
});

export const EpochRecord = z.object({
  epoch: z.number().int(),
  phase: z.enum(['head', 'finetune']),
  loss: z.number(),
  acc: z.number(),
  valLoss: z.number().nullable(),
  valAcc: z.number().nullable(),
  ms: z.number(),
});

export const FinalMetrics = z.object({
  testAccuracy: z.number().nullable(),
  valAccuracy: z.number().nullable(),
  testCount: z.number().int(),
  labels: z.array(z.string()),
  perClass: z.array(
    z.object({ label: z.string(), precision: z.number().nullable(), recall: z.number().nullable(), support: z.number().int() }),
  ),
  confusion: z.array(z.array(z.number().int())),
});

/** Model folders stay on the Node side: the UI gets whether one exists, never its path. */
export const Run = z.object({
  id: Id,
  projectId: Id,
  baseId: z.string(),
  strategy: Strategy,
  // Partial: runs recorded by older versions lack settings added since.
  config: TrainOverrides,
  engine: z.string().nullable(),
  status: RunStatus,
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  error: z.string().nullable(),
  hasModel: z.boolean(),
  /** Where each part ran (frozen pass, head, fine-tuning), with any slow fallback named. */
  backends: z.record(z.string(), z.string()).nullable(),
  metrics: FinalMetrics.nullable(),
  epochs: z.array(EpochRecord),
  /** The person's own name and notes for the run. */
  name: z.string().nullable(),
  notes: z.string().nullable(),
  /** The run whose network this one started from, if it was trained again from one. */
  continuedFrom: Id.nullable(),
});

export const EngineInfo = z.object({
  name: z.enum(['tfjs-node-gpu', 'tfjs-node', 'portable-wasm', 'portable-cpu']),
  backend: z.string(),
  tried: z.array(z.string()),
  convGradients: z.boolean(),
});

/** What a plan recommends: the strategy and the settings it starts from, and why (the wizard's and the quick plan's). */
export const PlanRecommendation = z.object({
  strategy: Strategy,
  featureLayer: z.string(),
  boundary: z.string().nullable(),
  lr: z.number(),
  epochs: z.number().int(),
  warmupEpochs: z.number().int(),
  reason: z.string(),
});

export const WizardReport = z.object({
  /** The base measured: the one asked for, or (none asked) the built-in base the wizard chose. */
  baseId: z.string(),
  perLabel: byName(z.number().int()),
  probe: z.object({
    scores: z.array(z.object({ layer: z.string(), score: z.number() })),
    best: z.string(),
    forwardMsPerImage: z.number(),
    runtime: z.string(),
    stepMsPerImage: z.object({ partial: z.number(), full: z.number() }).optional(),
    /** Where each step was timed, in the words the run records (the same compute plan decides both). */
    stepRuntime: z.object({ partial: z.string(), full: z.string() }).optional(),
  }),
  engine: EngineInfo,
  speed: z.object({
    engine: z.string(),
    msPerImage: z.record(Strategy, z.number()),
    forwardMsPerImage: z.number().optional(),
    /** The convex head's measured arithmetic rate (electron/shared/run-estimate.ts). */
    fitMacsPerMs: z.number().optional(),
  }),
  recommendation: PlanRecommendation.extend({
    estimatedMs: z.number(),
    estimate: z.object({ low: z.number(), high: z.number() }),
    /** Strategy 3 on fused features: pass as the `fused` override to train what the wizard measured. */
    fused: TrainOverrides.shape.fused.unwrap().nullable().optional(),
  }),
  /** Strategy 3's feature candidates, each with its cross-validated accuracy and weight bytes, and the rule that chose. */
  features: z
    .object({
      chosen: z.string(),
      candidates: z.array(
        z.object({
          name: z.string(),
          parts: z.array(z.object({ base: z.string(), layer: z.string() })),
          pools: z.string(),
          accuracy: z.number(),
          belowBest: z.number(),
          se: z.number(),
          bytes: z.number(),
          /** For the run estimate: features the head reads (its fit's cost), and ms per picture of the passes a run on them adds. */
          width: z.number().optional(),
          passMsPerImage: z.number().optional(),
        }),
      ),
      rule: z.string(),
    })
    .optional(),
  /** Expected accuracy on new pictures, from cross-validation on training + validation images only. */
  estimate: z.object({ low: z.number(), high: z.number() }),
});

/** The one table of run settings (the engine's config.ts): what the Train tab starts from. */
export const TrainingDefaults = z.object({
  /** The base trained on when none is named. */
  baseId: z.string(),
  byStrategy: z.object({ head: TrainConfig, partial: TrainConfig, full: TrainConfig }),
});

export const SplitCounts = z.object({
  train: z.number().int(),
  validation: z.number().int(),
  test: z.number().int(),
  assigned: z.number().int(),
});
export const SplitSettings = z.object({
  seed: z.number().int().min(0),
  train: z.number().min(0),
  validation: z.number().min(0),
  test: z.number().min(0),
});

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R) => ({ args, result });
const P = { projectId: Id };

export const trainingCalls = {
  /** Every setting of a run as it is when nothing is changed, per strategy. */
  'training.defaults': call(z.object({}), TrainingDefaults),
  /** Probes the base on this project's images (cached), measures the engine, recommends. */
  'training.wizard': call(z.object({ ...P, baseId: BaseId.optional() }), WizardReport),
  'training.start': call(
    z.object({
      ...P,
      baseId: BaseId.optional(),
      strategy: z.union([Strategy, z.literal('auto')]).default('auto'),
      overrides: TrainOverrides.default({}),
      /**
       * Train again from this finished run: the new run starts from its network (the fine-tuned
       * layers of strategies 1–2) instead of the pretrained base, with its settings unless
       * overridden, on the project's labels as they are now; the classifier on top is fitted anew.
       */
      fromRunId: Id.optional(),
      /** Labels left out of this run only (one far smaller than the others): their pictures are not used, nothing is deleted. */
      leaveOut: z.array(Id).max(1000).optional(),
    }),
    z.object({ runId: Id }),
  ),
  /** A run's name and notes (an empty string clears one). */
  'runs.describe': call(
    z.object({
      runId: Id,
      // Empty clears; one line for a name, several for notes, never other control characters.
      name: z
        .string()
        .max(200, 'A run name can be at most 200 characters')
        .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'A run name cannot contain control characters')
        .optional(),
      notes: z
        .string()
        .max(10_000, 'Notes can be at most 10,000 characters')
        .refine((s) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s), 'Notes cannot contain control characters')
        .optional(),
    }),
    z.object({ ok: z.literal(true) }),
  ),
  'training.cancel': call(z.object({ runId: Id }), z.object({ ok: z.literal(true) })),
  'runs.list': call(z.object(P), z.array(Run)),
  'runs.get': call(z.object({ runId: Id }), Run),
  'splits.get': call(z.object(P), z.object({ settings: SplitSettings, counts: SplitCounts })),
  /** Changing the seed or fractions redraws every split of the project. */
  'splits.set': call(z.object({ ...P, settings: SplitSettings.partial() }), z.object({ settings: SplitSettings, counts: SplitCounts })),
} as const;

export const trainingEvents = {
  'training.progress': z.object({
    runId: Id,
    phase: z.string(),
    done: z.number().int(),
    total: z.number().int(),
    etaMs: z.number().nullable(),
  }),
  'training.epoch': z.object({ runId: Id, record: EpochRecord }),
  'training.finished': z.object({ runId: Id, status: RunStatus }),
} as const;
