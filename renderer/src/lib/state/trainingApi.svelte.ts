// The training calls and events, typed from their own contract module. They are called through
// the one client (`api`); the cast only bridges the time until the lead merges
// contract-training.ts into contract.ts, after which `api.call` accepts them as they are.
import type { z } from 'zod';
import type { trainingCalls, trainingEvents, EngineInfo, EpochRecord, FinalMetrics, Run, RunStatus, SplitCounts, SplitSettings, Strategy, TrainOverrides, WizardReport } from '../../../../electron/shared/contract-training';
import type { predictCalls, ClassifyResult } from '../../../../electron/shared/contract-predict';
import { api } from '../client';

type Calls = typeof trainingCalls;
export type TrainingMethod = keyof Calls | 'runs.classify';
type Args<M extends TrainingMethod> = M extends keyof Calls ? z.input<Calls[M]['args']> : ClassifyArgs;
type Result<M extends TrainingMethod> = M extends keyof Calls ? z.output<Calls[M]['result']> : Classification;
type Events = typeof trainingEvents;
export type TrainingEvent = keyof Events;
export type TrainingEventPayload<E extends TrainingEvent> = z.output<Events[E]>;

export type RunInfo = z.output<typeof Run>;
export type RunStatusName = z.output<typeof RunStatus>;
export type StrategyName = z.output<typeof Strategy>;
export type Epoch = z.output<typeof EpochRecord>;
export type Metrics = z.output<typeof FinalMetrics>;
export type Wizard = z.output<typeof WizardReport>;
export type Engine = z.output<typeof EngineInfo>;
export type Overrides = z.output<typeof TrainOverrides>;
export type Splits = { settings: z.output<typeof SplitSettings>; counts: z.output<typeof SplitCounts> };

/** `runs.classify` (contract-predict.ts): one image through a finished run's model. */
type ClassifyArgs = z.input<(typeof predictCalls)['runs.classify']['args']>;
export type Classification = ClassifyResult;
export type ClassifyMime = ClassifyArgs['mime'];

interface LooseApi {
  call(method: string, args: unknown): Promise<unknown>;
  on(event: string, listener: (payload: unknown) => void): () => void;
}
const loose = api as unknown as LooseApi;

export function trainingCall<M extends TrainingMethod>(method: M, args: Args<M>): Promise<Result<M>> {
  return loose.call(method, args) as Promise<Result<M>>;
}

export function onTraining<E extends TrainingEvent>(event: E, listener: (payload: TrainingEventPayload<E>) => void): () => void {
  return loose.on(event, listener as (payload: unknown) => void);
}
