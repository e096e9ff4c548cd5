// The training and "Try it" calls and events (contract-training.ts, contract-predict.ts, merged
// into the contract), with the names of their types the Train page uses.
import type { z } from 'zod';
import type {
  trainingCalls,
  trainingEvents,
  EpochRecord,
  FinalMetrics,
  Run,
  RunStatus,
  SplitCounts,
  SplitSettings,
  Strategy,
  TrainOverrides,
  WizardReport,
} from '../../../../electron/shared/contract-training';
import type { predictCalls, ClassifyResult } from '../../../../electron/shared/contract-predict';
import type { QuickPlan } from '../../../../electron/shared/contract-plan';
import type { Args, Result } from '../../../../electron/shared/contract';
import { api } from '../client';

type Calls = typeof trainingCalls;
type Events = typeof trainingEvents;
export type TrainingEvent = keyof Events;
export type TrainingEventPayload<E extends TrainingEvent> = z.output<Events[E]>;

export type RunInfo = z.output<typeof Run>;
export type RunStatusName = z.output<typeof RunStatus>;
export type StrategyName = z.output<typeof Strategy>;
export type Epoch = z.output<typeof EpochRecord>;
export type Metrics = z.output<typeof FinalMetrics>;
export type Wizard = z.output<typeof WizardReport>;
/** The instant first plan (`training.quickPlan`): from picture counts, or the wizard's kept answer. */
export type QuickPlanInfo = z.output<typeof QuickPlan>;
export type Overrides = z.output<typeof TrainOverrides>;
export type Splits = { settings: z.output<typeof SplitSettings>; counts: z.output<typeof SplitCounts> };

/** `runs.classify` (contract-predict.ts): one image through a finished run's model. */
type ClassifyArgs = z.input<(typeof predictCalls)['runs.classify']['args']>;
export type Classification = ClassifyResult;
export type ClassifyMime = ClassifyArgs['mime'];

type Method = keyof Calls | 'runs.classify' | 'training.quickPlan';

export function trainingCall<M extends Method>(method: M, args: Args<M>): Promise<Result<M>> {
  return api.call(method, args);
}

export function onTraining<E extends TrainingEvent>(event: E, listener: (payload: TrainingEventPayload<E>) => void): () => void {
  return api.on(event, listener);
}
