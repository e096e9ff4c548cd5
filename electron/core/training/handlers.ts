// Handlers for the training calls (electron/shared/contract-training.ts), ready to be spread into
// Studio's handler table once the lead merges those calls into the contract, plus the event
// forwarding. Model folders never leave the Node side: the UI sees `hasModel`.
import fs from 'node:fs';
import type { z } from 'zod';
import type { Db } from '../db/connection.js';
import { trainingCalls, type Run } from '../../shared/contract-training.js';
import { getProject } from '../library/projects.js';
import type { TrainingService } from './service.js';
import { WizardMemo } from './quick-plan.js';
import * as runs from './runs.js';
import { assignSplits, resetSplits, splitSettings } from './splits.js';

type Calls = typeof trainingCalls;
export type TrainingHandlers = {
  [M in keyof Calls]: (args: z.output<Calls[M]['args']>) => Promise<z.output<Calls[M]['result']>> | z.output<Calls[M]['result']>;
};

export function toWireRun(r: runs.RunRow): z.output<typeof Run> {
  const { modelFolder, ...rest } = r;
  return { ...rest, hasModel: !!modelFolder && fs.existsSync(modelFolder) } as z.output<typeof Run>;
}

export function trainingHandlers(db: Db, service: TrainingService, memo = new WizardMemo(service)): TrainingHandlers {
  const project = (projectId: number) => getProject(db, projectId).id;
  return {
    'training.defaults': () => service.defaults(),
    // Kept, so the Train tab's next first answer (training.quickPlan) can be the full one.
    'training.wizard': ({ projectId, baseId }) => memo.measure(project(projectId), baseId, () => service.wizard(projectId, baseId)),
    'training.start': async ({ projectId, baseId, strategy, overrides, fromRunId, leaveOut }) => {
      const { runId } = await service.start(project(projectId), {
        strategy,
        ...(baseId ? { baseId } : {}),
        overrides,
        ...(fromRunId !== undefined ? { fromRunId } : {}),
        ...(leaveOut?.length ? { leaveOut } : {}),
      });
      return { runId };
    },
    'runs.describe': ({ runId, name, notes }) => {
      runs.describeRun(db, runId, { ...(name !== undefined ? { name } : {}), ...(notes !== undefined ? { notes } : {}) });
      return { ok: true as const };
    },
    'training.cancel': ({ runId }) => {
      service.cancel(runId);
      return { ok: true as const };
    },
    'runs.list': ({ projectId }) => runs.listRuns(db, project(projectId)).map(toWireRun),
    'runs.get': ({ runId }) => toWireRun(runs.getRun(db, runId)),
    'splits.get': ({ projectId }) => {
      const counts = assignSplits(db, project(projectId));
      return { settings: splitSettings(db, projectId), counts };
    },
    'splits.set': ({ projectId, settings }) => {
      const counts = resetSplits(db, project(projectId), settings);
      return { settings: splitSettings(db, projectId), counts };
    },
  };
}

/** Forwards the service's events to an emitter shaped like Studio's bus (names per contract-training's events). */
export function forwardTrainingEvents(
  service: TrainingService,
  emit: (name: 'training.progress' | 'training.epoch' | 'training.finished', payload: unknown) => void,
): () => void {
  const onProgress = (p: unknown) => emit('training.progress', p);
  const onEpoch = (e: unknown) => emit('training.epoch', e);
  const onFinished = (r: runs.RunRow) => emit('training.finished', { runId: r.id, status: r.status });
  service.on('progress', onProgress);
  service.on('epoch', onEpoch);
  service.on('finished', onFinished);
  return () => {
    service.off('progress', onProgress);
    service.off('epoch', onEpoch);
    service.off('finished', onFinished);
  };
}
