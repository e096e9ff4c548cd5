// npm run bench:estimates — do the time estimates hold? On clipart-8 in a fresh data folder: the
// wizard measures this engine (as the Train tab does), then one run per strategy; for each, the
// estimate the Train tab shows for that strategy and its settings (electron/shared/run-estimate.ts)
// against the run's actual duration. Goal: actual within 2× of the estimate either way.
//   ESTIMATE_STRATEGIES=head,partial,full   (default head,partial: the whole network at 224 px costs
//                                            ~11 s per picture-step on a loaded portable engine)
//   ESTIMATE_EPOCHS=partial:3,full:1         fine-tuning epochs per strategy (default partial:3, full:1,
//                                            with 1 warm-up epoch: the whole network at 224 px takes
//                                            minutes per epoch on a loaded 2-core machine)
// Prints a table and one JSON line. The machine's load average is printed with it: other work on
// the same cores slows the runs and not the wizard's earlier measurement, or the other way round.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Studio } from '../../electron/core/studio.js';
import { estimateRunMs, type EstimateStrategy } from '../../electron/shared/run-estimate.js';
import { testEnvironment } from '../fixtures/environment.js';
import { CLIPART } from '../fixtures/datasets.js';

const strategies = (process.env.ESTIMATE_STRATEGIES ?? 'head,partial').split(',').filter(Boolean) as EstimateStrategy[];
const epochsBy: Record<string, number> = { partial: 3, full: 1 };
for (const kv of (process.env.ESTIMATE_EPOCHS ?? '').split(',').filter(Boolean)) {
  const [k, v] = kv.split(':');
  epochsBy[k!] = Number(v);
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-estimates-bench-'));
const studio = new Studio({ environment: testEnvironment(dataDir), host: 'cli' });
const rows: { strategy: string; epochs: number; epochsRun: number; estimateMs: number; actualMs: number; ratio: number }[] = [];
try {
  const { id: projectId } = await studio.call('projects.create', { name: 'clipart-8' });
  await studio.importPaths(projectId, { paths: [CLIPART], displayName: 'clipart-8' }, true);
  const t0 = performance.now();
  const wizard = await studio.call('training.wizard', { projectId });
  console.log(
    `wizard: ${((performance.now() - t0) / 1000).toFixed(1)} s on ${wizard.engine.name}; ms/image head ${wizard.speed.msPerImage.head.toFixed(2)}, ` +
      `partial ${wizard.speed.msPerImage.partial.toFixed(1)}, full ${wizard.speed.msPerImage.full.toFixed(1)}, forward ${wizard.speed.forwardMsPerImage?.toFixed(1) ?? '–'}, ` +
      `fit ${wizard.speed.fitMacsPerMs ? `${(wizard.speed.fitMacsPerMs / 1e3).toFixed(0)} M multiply-adds/s` : '–'}; ` +
      `features ${wizard.features?.chosen ?? 'one layer'}`,
  );
  const images = Object.values(wizard.perLabel).reduce((a, b) => a + b, 0);
  const defaults = await studio.call('training.defaults', {});
  for (const strategy of strategies) {
    const d = defaults.byStrategy[strategy];
    // As the Train tab starts it: on the wizard's base, strategy 3 with the wizard's features (fused
    // or one layer) — or the candidate ESTIMATE_FEATURES names (e.g. `both`, to time fused features
    // when the wizard kept one layer) —, strategies 1–2 from the wizard's layer. (On the default
    // base instead, the estimate was of one base and the run of another.)
    const r = wizard.recommendation;
    const chosen = wizard.features?.candidates.find((c) => c.name === (process.env.ESTIMATE_FEATURES ?? wizard.features!.chosen));
    if (process.env.ESTIMATE_FEATURES && !chosen)
      throw new Error(`The wizard measured no feature candidate "${process.env.ESTIMATE_FEATURES}".`);
    const fused = strategy === 'head' && !!chosen && chosen.name !== 'single';
    const overrides =
      strategy === 'head'
        ? chosen
          ? { featureLayer: chosen.parts[0]!.layer, ...(fused ? { fused: chosen.parts } : {}) }
          : { featureLayer: r.featureLayer }
        : { featureLayer: r.featureLayer, epochs: epochsBy[strategy] ?? d.epochs, warmupEpochs: 1 };
    const epochs = strategy === 'head' ? d.epochs : overrides.epochs!;
    const warmupEpochs = strategy === 'head' ? 0 : 1;
    // What the Train tab shows for this choice (WizardPanel: the same function, the same speeds).
    const estimateMs = estimateRunMs(
      strategy,
      {
        images,
        epochs,
        warmupEpochs,
        // Strategy 3's head, and the warm-up of 1–2, are one convex fit by default.
        convexHead: d.headFit === 'convex' && d.denseUnits === 0,
        classes: Object.keys(wizard.perLabel).length,
        ...(chosen?.width ? { featureWidth: chosen.width } : {}),
        ...(fused && chosen?.passMsPerImage ? { fusedPassMsPerImage: chosen.passMsPerImage } : {}),
      },
      wizard.speed,
    );
    // Where the time went: each phase from its progress until another phase's (the last until the
    // run ends), summed per phase, to say which term of the estimate is off.
    const phases = new Map<string, number>();
    let current: { phase: string; since: number } | null = null;
    const switchTo = (phase: string | null) => {
      const now = performance.now();
      if (current) phases.set(current.phase, (phases.get(current.phase) ?? 0) + now - current.since);
      current = phase === null ? null : { phase, since: now };
    };
    const finished = new Promise<void>((resolve) => {
      const off = studio.bus.subscribe((name, payload) => {
        if (name === 'training.progress' && (payload as { runId: number }).runId === runId) {
          const phase = (payload as { phase: string }).phase;
          if (current?.phase !== phase) switchTo(phase);
        }
        if (name === 'training.finished' && (payload as { runId: number }).runId === runId) {
          switchTo(null);
          off();
          resolve();
        }
      });
    });
    let runId = -1;
    ({ runId } = await studio.call('training.start', { projectId, baseId: wizard.baseId, strategy, overrides }));
    await finished;
    const run = await studio.call('runs.get', { runId });
    if (run.status !== 'done') throw new Error(`run ${runId} (${strategy}) ended ${run.status}: ${run.error}`);
    const actualMs = run.durationMs ?? 0;
    const spans = [...phases].map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(1)} s`).join(', ');
    const epochsMs = run.epochs.map((e) => `${e.phase} ${(e.ms / 1000).toFixed(1)}`).join(', ');
    const features = fused
      ? `; features ${chosen!.name}: ${chosen!.width} wide, ${chosen!.passMsPerImage?.toFixed(0)} ms a picture of uncached passes`
      : '';
    console.log(`  ${strategy}: phases ${spans}; epochs (s) ${epochsMs}${features}`);
    const row = {
      strategy,
      epochs,
      epochsRun: run.epochs.length,
      estimateMs,
      actualMs,
      ratio: Math.round((actualMs / estimateMs) * 100) / 100,
    };
    rows.push(row);
    console.log(
      `${strategy.padEnd(8)} epochs ${String(epochs).padStart(3)} (${row.epochsRun} recorded)  estimate ${(estimateMs / 1000).toFixed(1).padStart(6)} s  actual ${(actualMs / 1000).toFixed(1).padStart(6)} s  actual/estimate ${row.ratio.toFixed(2)}${row.ratio > 2 || row.ratio < 0.5 ? '  OUTSIDE 2×' : ''}  (load average ${os.loadavg()[0]!.toFixed(1)})`,
    );
  }
} finally {
  studio.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
console.log(
  JSON.stringify({
    bench: 'estimates',
    loadAverage: os.loadavg()[0],
    cores: os.cpus().length,
    rows,
    within2x: rows.every((r) => r.ratio <= 2 && r.ratio >= 0.5),
  }),
);
