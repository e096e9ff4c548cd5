// The Train tab's first answer: a plan it can show (and start) at once, before the wizard has
// measured anything. Handler: electron/core/training/quick-plan.ts.
import { z } from 'zod';
import { byName, Id } from './schemas.js';
import { BaseId, PlanRecommendation, WizardReport } from './contract-training.js';

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R) => ({ args, result });

export const QuickPlan = z.object({
  perLabel: byName(z.number().int()),
  /** The wizard's last full answer for exactly these pictures and this base, when the host still has it. */
  cached: WizardReport.nullable(),
  /** From the counts of pictures per label only: no probe, no timing. */
  recommendation: PlanRecommendation.extend({
    /** The label with the fewest pictures, named so the reason is about the user's own data. */
    smallest: z.object({ label: z.string(), count: z.number().int() }),
  }),
});

export const planCalls = {
  /** Answers in milliseconds: counts the project's labeled pictures, measures nothing. */
  'training.quickPlan': call(z.object({ projectId: Id, baseId: BaseId.optional() }), QuickPlan),
} as const;
