// Training numbers in words a newcomer reads at a glance.
import type { RunStatusName } from '../../lib/state/trainingApi.svelte';

export { warmupWords } from '../../../../electron/shared/recipe-words';

export function durationInWords(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  if (s < 1) return 'under a second';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  if (m < 60) return `about ${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.floor(m / 60);
  const rest = m % 60;
  return `about ${h} hour${h === 1 ? '' : 's'}${rest ? ` ${rest} min` : ''}`;
}

export function percent(x: number | null | undefined, digits = 0): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(digits)}%`;
}

export const STATUS_WORDS: Record<RunStatusName, string> = {
  queued: 'Waiting',
  running: 'Training',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

// The engine in a person's words; its module and runtime names go behind "Details".
export const ENGINE_WORDS: Record<string, string> = {
  'tfjs-node-gpu': 'The graphics card (fast)',
  'tfjs-node': 'The processor, with TensorFlow (medium)',
  'portable-wasm': 'The portable engine, on every processor core',
  'portable-cpu': 'The portable engine in plain JavaScript (slowest)',
};

/** The same, short enough for the run history. */
export const ENGINE_SHORT: Record<string, string> = {
  'tfjs-node-gpu': 'graphics card',
  'tfjs-node': 'processor',
  'portable-wasm': 'portable engine',
  'portable-cpu': 'portable engine (slow)',
};

export const PHASE_WORDS: Record<string, string> = {
  caching: 'Reading your pictures through the base network',
  training: 'Training',
  testing: 'Testing on pictures kept aside',
  checking: 'Judging every picture with classifiers that did not learn from it',
  predicting: 'Predicting the unlabeled pictures',
  head: 'Warming up the new classifier',
  finetune: 'Fine-tuning the network',
};

/** "block_13_expand_relu" → "13x", "block_13_add" → "13", "mixed5" → "m5": short enough for a chart axis. */
export function shortLayer(name: string): string {
  const block = /block_?(\d+)(_expand)?/i.exec(name);
  if (block) return `${block[1]}${block[2] ? 'x' : ''}`;
  if (/^expanded_conv/i.test(name)) return '0';
  const mixed = /^mixed_?(\d+)/i.exec(name);
  if (mixed) return `m${mixed[1]}`;
  if (/^out_relu$/i.test(name)) return 'out';
  return name.length > 8 ? `${name.slice(0, 7)}…` : name;
}

/** The layer in plain words, for sentences and tooltips. */
export function layerWords(name: string): string {
  const block = /block_?(\d+)(_expand)?/i.exec(name);
  if (block) return block[2] ? `block ${block[1]} (its expansion)` : `block ${block[1]}`;
  const mixed = /^mixed_?(\d+)/i.exec(name);
  if (mixed) return `block ${mixed[1]}`;
  if (/^out_relu$/i.test(name)) return 'the last layer';
  return name;
}

export function when(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function learningRate(lr: number): string {
  return lr >= 0.001
    ? String(lr)
    : lr
        .toExponential(0)
        .replace('e-', '×10⁻')
        .replace(/⁻(\d)/, (_, d: string) => `⁻${'⁰¹²³⁴⁵⁶⁷⁸⁹'[Number(d)]}`);
}
