// The Train tab's first answer, in milliseconds: the wizard's last full answer when the host still
// has one for exactly these pictures, and a plan from the counts of pictures per label otherwise.
// The full measurement (probe, step timing) can take a minute on a first visit; nothing waits for it.
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { QuickPlan } from '../../shared/contract-plan.js';
import type { WizardReport } from '../../shared/contract-training.js';
import { STRATEGY_DEFAULTS } from '../engine/config.js';
import { MIN_PER_LABEL_TO_FINETUNE } from '../engine/wizard.js';
import { DEFAULT_BASE, type TrainingService } from './service.js';

type Report = z.output<typeof WizardReport>;
type Plan = z.output<typeof QuickPlan>;

/** The wizard's answers per project, kept while the host runs, valid while the pictures and their labels stay the same. */
export class WizardMemo {
  private byProject = new Map<number, { key: string; report: Report }>();

  constructor(private service: TrainingService) {}

  /** What the answer depends on: the base, and which picture has which label. */
  private key(projectId: number, baseId: string): string {
    const data = this.service.dataset(projectId);
    const h = createHash('sha256').update(baseId);
    for (const s of data.samples) h.update(`\n${s.key}:${data.labels[s.label]}`);
    return h.digest('hex');
  }

  /** Runs the wizard and keeps its answer. */
  async measure(projectId: number, baseId: string | undefined, run: () => Promise<Report>): Promise<Report> {
    const base = baseId ?? DEFAULT_BASE;
    const key = this.key(projectId, base);
    await slowForTests();
    const report = await run();
    this.byProject.set(projectId, { key, report });
    return report;
  }

  cached(projectId: number, baseId: string): Report | null {
    const kept = this.byProject.get(projectId);
    return kept && kept.key === this.key(projectId, baseId) ? kept.report : null;
  }
}

/**
 * STUDIO_SLOW_WIZARD_MS stretches every measurement, as a slow computer would: the e2e test of
 * "Start is never blocked by the wizard" needs a measurement that outlasts it, on any machine.
 * It waits before the measurement, so the test's run does not share the CPU with it.
 */
async function slowForTests(): Promise<void> {
  const ms = Number(process.env.STUDIO_SLOW_WIZARD_MS ?? 0);
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(ms, 600_000)));
}

export function quickPlan(service: TrainingService, memo: WizardMemo, projectId: number, baseId = DEFAULT_BASE): Plan {
  const { perLabel } = service.dataset(projectId);
  const spec = service.base(baseId).spec;
  const [label, count] = Object.entries(perLabel).reduce((a, b) => (b[1] < a[1] ? b : a));
  const most = Math.max(...Object.values(perLabel));
  const { lr, epochs, warmupEpochs } = STRATEGY_DEFAULTS.head;
  const pictures = (n: number) => `${n} picture${n === 1 ? '' : 's'}`;
  // Without a measurement of how well the base knows these pictures, or of this computer's speed,
  // the one choice that is never slow nor harmful is a new classifier on the frozen base.
  const reason =
    count < MIN_PER_LABEL_TO_FINETUNE && count === most
      ? `With ${pictures(count)} per label (fewer than ${MIN_PER_LABEL_TO_FINETUNE}), retraining the network would make it memorise them: only a new classifier learns your labels, on what the network already sees.`
      : count < MIN_PER_LABEL_TO_FINETUNE
        ? `“${label}” has only ${pictures(count)} (fewer than ${MIN_PER_LABEL_TO_FINETUNE}), so retraining the network would make it memorise them: only a new classifier learns your labels, on what the network already sees.`
        : `A first choice from your counts (${count === most ? pictures(count) : `${count} to ${most} pictures`} per label): a new classifier on what the network already sees, the quickest to train. The measurement may still suggest fine-tuning more of the network.`;
  return {
    perLabel,
    cached: memo.cached(projectId, baseId),
    recommendation: {
      strategy: 'head',
      featureLayer: spec.featureLayer,
      boundary: null,
      lr,
      epochs,
      warmupEpochs,
      reason,
      smallest: { label, count },
    },
  };
}
