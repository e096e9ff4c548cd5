// The wizard's rules, pinned by a table written before the rules themselves.
import { describe, it, expect } from 'vitest';
import { recommend, type EngineSpeed } from '../../electron/core/engine/wizard.js';

// Measured ms per image for one training step of each strategy (forward + backward of what trains).
const gpu: EngineSpeed = { engine: 'tfjs-node-gpu', msPerImage: { head: 0.02, partial: 2, full: 6 } };
const nativeCpu: EngineSpeed = { engine: 'tfjs-node', msPerImage: { head: 0.05, partial: 40, full: 1000 } };
const portable: EngineSpeed = { engine: 'portable-wasm', msPerImage: { head: 0.1, partial: 400, full: 4000 } };

const blocks = ['block_6', 'block_10', 'block_13', 'block_16', 'out_relu'];

type Case = [
  name: string,
  imagesPerLabel: number,
  labels: number,
  probe: number,
  speed: EngineSpeed,
  expected: 'head' | 'partial' | 'full',
];
const table: Case[] = [
  ['too few images to fine-tune anything', 10, 8, 0.5, gpu, 'head'],
  ['a handful per label, even on a fast engine', 19, 2, 0.3, gpu, 'head'],
  ['features already separate the labels', 60, 8, 0.92, gpu, 'head'],
  ['plenty of data, features already separate the labels', 1000, 4, 0.95, gpu, 'head'],
  ['middle case, fast engine', 100, 8, 0.6, gpu, 'partial'],
  ['middle case, native CPU engine', 150, 8, 0.6, nativeCpu, 'partial'],
  ['60 per label: a well-fitted head beats fine-tuning at this size', 60, 8, 0.6, gpu, 'head'],
  ['middle case, portable engine is too slow', 100, 8, 0.6, portable, 'head'],
  ['much data, unlike the base, fast engine', 1000, 8, 0.4, gpu, 'full'],
  // 600 per label, not 1000: strategy 2's estimate now counts its maps and the passes above its
  // boundary (run-estimate.ts, measured), and 4000 pictures no longer fit 20 minutes at 40 ms a step.
  ['much data, unlike the base, native CPU: full too slow, partial fits', 600, 4, 0.4, nativeCpu, 'partial'],
  ['much data, unlike the base, portable engine', 1000, 8, 0.4, portable, 'head'],
  ['much data, fairly like the base, fast engine', 1000, 8, 0.75, gpu, 'partial'],
  ['small portable project where partial still fits the budget', 100, 2, 0.5, portable, 'partial'],
];

describe('wizard.recommend', () => {
  for (const [name, imagesPerLabel, labels, probeScore, speed, expected] of table) {
    it(`${name} → ${expected}`, () => {
      const r = recommend({ imagesPerLabel, labels, probeScore, speed, blocks, bestBlock: 'block_13' });
      expect(r.strategy).toBe(expected);
      expect(r.reason.length).toBeGreaterThan(20);
      expect(r.estimatedMs).toBeGreaterThan(0);
      expect(r.epochs).toBeGreaterThan(0);
      if (expected === 'head') expect(r.lr).toBeGreaterThanOrEqual(1e-3);
      else expect(r.lr).toBeLessThanOrEqual(1e-4); // small LR keeps the pretrained knowledge
    });
  }

  it('says a fine-tuned network is kept only when it beats a new classifier alone (the run measures it: keepStart)', () => {
    const partial = recommend({ imagesPerLabel: 100, labels: 8, probeScore: 0.6, speed: gpu, blocks, bestBlock: 'block_13' });
    const full = recommend({ imagesPerLabel: 600, labels: 4, probeScore: 0.4, speed: gpu, blocks, bestBlock: 'block_13' });
    expect([partial.strategy, full.strategy]).toEqual(['partial', 'full']);
    for (const r of [partial, full]) expect(r.reason).toMatch(/kept only if it beats a new classifier alone on your checking pictures/);
  });

  it('anchors the boundary at the best block, lower with more data', () => {
    const few = recommend({ imagesPerLabel: 100, labels: 8, probeScore: 0.6, speed: gpu, blocks, bestBlock: 'block_13' });
    const many = recommend({ imagesPerLabel: 1000, labels: 8, probeScore: 0.75, speed: gpu, blocks, bestBlock: 'block_13' });
    expect(few.boundary).toBe('block_13');
    expect(many.boundary).toBe('block_10');
    expect(few.featureLayer).toBe('block_13');
  });

  it('anchors the boundary at the block end below a mid-block best layer', () => {
    const r = recommend({
      imagesPerLabel: 100,
      labels: 8,
      probeScore: 0.6,
      speed: gpu,
      blocks,
      bestBlock: 'block_11_expand',
      anchorBlock: 'block_10',
    });
    expect(r.featureLayer).toBe('block_11_expand');
    expect(r.boundary).toBe('block_10');
  });

  it('estimates time from the engine speed and says why in plain words', () => {
    const r = recommend({ imagesPerLabel: 10, labels: 8, probeScore: 0.5, speed: portable, blocks, bestBlock: 'block_13' });
    expect(r.reason).toMatch(/10 images per label/);
    const slow = recommend({ imagesPerLabel: 100, labels: 8, probeScore: 0.6, speed: portable, blocks, bestBlock: 'block_13' });
    expect(slow.reason).toMatch(/engine/i);
    const fast = recommend({
      imagesPerLabel: 100,
      labels: 8,
      probeScore: 0.6,
      speed: { ...portable, msPerImage: { ...portable.msPerImage, head: 1 } },
      blocks,
      bestBlock: 'block_13',
    });
    expect(fast.estimatedMs).toBeGreaterThan(slow.estimatedMs);
  });
});

describe('wizard speed from a measured training step', () => {
  it('uses the measured step times, so a faster engine changes the recommendation', async () => {
    const { speedFrom } = await import('../../electron/core/training/service.js');
    const engine = { name: 'portable-wasm' as const, backend: 'wasm', tried: [], convGradients: true };
    // Same forward speed; only the measured training step differs.
    const slow = speedFrom(engine, 18, { partial: 400, full: 4000 });
    const fast = speedFrom(engine, 18, { partial: 8, full: 270 });
    expect(slow.msPerImage).toMatchObject({ partial: 400, full: 4000 });
    expect(fast.msPerImage).toMatchObject({ partial: 8, full: 270 });
    const input = { imagesPerLabel: 100, labels: 8, probeScore: 0.6, blocks, bestBlock: 'block_13' };
    expect(recommend({ ...input, speed: slow }).strategy).toBe('head');
    expect(recommend({ ...input, speed: fast }).strategy).toBe('partial');
    // Without a measurement it falls back to factors of the forward pass.
    expect(speedFrom(engine, 18).msPerImage.partial).toBe(9);
  });
});

describe('wizard on a graph-model base (features only)', () => {
  it('never recommends fine-tuning, even where a layers base would get strategy 1 or 2', () => {
    for (const [name, imagesPerLabel, labels, probeScore, speed] of table) {
      const r = recommend({ imagesPerLabel, labels, probeScore, speed, blocks: [], bestBlock: 'pool', featuresOnly: true });
      expect(r.strategy, name).toBe('head');
      expect(r.boundary).toBeNull();
      expect(r.featureLayer).toBe('pool');
      expect(r.reason).toMatch(/graph model/);
    }
  });
});
