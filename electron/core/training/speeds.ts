// The engine's measured speeds as the run estimate reads them (electron/shared/run-estimate.ts):
// per strategy from the wizard's probe and step timing, the convex head's arithmetic rate, and
// the frozen passes a run on fused features adds to what the wizard cached.
import type { MeasuredSpeed } from '../../shared/run-estimate.js';
import type { EngineInfo } from '../engine/backend.js';
import type { EngineSpeed } from '../engine/wizard.js';
import type { FusedPart } from '../engine/fused.js';

/** The engine's measured speeds, with the convex head's arithmetic rate the run estimate adds. */
export type WizardSpeed = EngineSpeed & Pick<MeasuredSpeed, 'fitMacsPerMs'>;

/**
 * Speeds per strategy. Strategies 1–2 use the engine's measured training step (the wizard's
 * probe times one of each, see engine/step-timing.ts), so the estimates follow the engine as
 * it gets faster. Without a measurement (an older engine message), they fall back to rough
 * factors of the frozen forward pass: a step is about three forwards of what trains.
 */
export function speedFrom(
  engine: EngineInfo,
  forwardMsPerImage: number,
  step?: { partial: number; full: number },
  fitMacsPerMs?: number,
): WizardSpeed {
  const fwd = Math.max(forwardMsPerImage, 1);
  const slow = engine.name === 'portable-cpu' ? 5 : 1;
  return {
    engine: engine.name,
    forwardMsPerImage: fwd,
    ...(fitMacsPerMs ? { fitMacsPerMs } : {}),
    msPerImage: {
      head: engine.name.startsWith('portable') ? 0.1 : 0.05,
      partial: step ? Math.max(step.partial, 0.01) : fwd * 0.5 * slow,
      full: step ? Math.max(step.full, 0.01) : fwd * 3 * slow,
    },
  };
}

/**
 * A trunk's pass fed pictures of `size` px against its measured pass at its own size: the same
 * layers at its own size, plus decoding the larger picture and the in-graph resize, which grow
 * with the extra pixels. Measured at a quarter of the pixels' ratio: MobileNetV2 fed 299 px took
 * 44 ms a picture against 36.5 ms at its own 224 px (1.2×; 1.78× the pixels), ONNX Runtime on 2 cores.
 */
const RESIZED_PASS = (own: number, size: number) => 1 + ((size / own) ** 2 - 1) / 4;

/**
 * ms per picture of the frozen passes a run on these fused parts makes that the wizard did not
 * cache: every trunk smaller than the fused input is fed the fused size, so its probe's features
 * (at its own size) are not reused. Each costs its own measured pass, scaled by RESIZED_PASS.
 */
export function fusedPassMsPerImage(
  parts: FusedPart[],
  measured: { baseId: string; speed: Pick<EngineSpeed, 'forwardMsPerImage'> }[],
  inputSizeOf: (baseId: string) => number,
): number {
  const bases = [...new Set(parts.map((p) => p.base))];
  const size = Math.max(...bases.map(inputSizeOf));
  let total = 0;
  for (const b of bases) {
    const own = inputSizeOf(b);
    if (own >= size) continue;
    total += (measured.find((w) => w.baseId === b)?.speed.forwardMsPerImage ?? 0) * RESIZED_PASS(own, size);
  }
  return total;
}
