// The Export panel's words: parts, phases and the parity check, for someone who does not code.
import type { Export, Part } from '../../lib/state/export.svelte';
import { plural } from '../../lib/format';

// What each part is for, in the user's words; the file formats' names are under "Details".
export const PART_WORDS: Record<Part, { title: string; line: string; format: string }> = {
  tfjs: {
    title: 'Model for websites',
    line: 'use it in a web page or web app',
    format: 'TensorFlow.js layers model (model.json and weights)',
  },
  onnx: { title: 'Model for apps', line: 'use it from Python, a server, a phone, C#…', format: 'ONNX model (model.onnx)' },
  'web-demo': {
    title: 'Offline web demo',
    line: 'open it in any browser and drop a picture on it',
    format: 'index.html with the model inside',
  },
  examples: { title: 'Code examples', line: 'Node and Python', format: 'scripts that run the model for apps' },
};

// What the user can do with each part once it is exported, in the order they would try them.
// No file formats here: this is on the main path; the files are listed under "Details".
export const USE_WORDS: Record<Part, { action: string; how: string }> = {
  'web-demo': { action: 'Open the demo in any browser', how: 'double-click index.html in the web-demo folder, then drop a picture on it' },
  tfjs: { action: 'Use in a website', how: 'put the model for websites on your site; README.md shows the few lines of code' },
  onnx: { action: 'Use in an app or on a server', how: 'the model for apps runs from most programming languages' },
  examples: { action: 'Use from Python', how: 'run examples/python/classify.py on your pictures (a JavaScript one is beside it)' },
};

/** The uses of an export's parts, demo first. */
export function usesOf(parts: readonly Part[]): { part: Part; action: string; how: string }[] {
  return (['web-demo', 'tfjs', 'examples', 'onnx'] as const).filter((p) => parts.includes(p)).map((p) => ({ part: p, ...USE_WORDS[p] }));
}

const PHASES: Record<string, string> = {
  'predicting with the app': 'Asking the app for its answers on the test pictures',
  'measuring 8-bit weights': 'Measuring the 8-bit weights',
  'writing models': 'Writing the model files',
  'checking parity': 'Checking the exported models give the same answers as the app',
  'writing the model card': 'Writing the model card',
  zipping: 'Packing the .zip',
  done: 'Done',
};

export function phaseWords(phase: string): string {
  return PHASES[phase] ?? phase.charAt(0).toUpperCase() + phase.slice(1);
}

export const STATUS_WORDS: Record<Export['status'], string> = {
  running: 'Exporting',
  done: 'Ready',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

/** A small difference written out in plain decimals (0.0000002), not 2e-7. */
export function smallNumber(x: number): string {
  if (x === 0) return '0';
  if (x >= 0.01) return x.toFixed(3);
  const digits = Math.min(12, -Math.floor(Math.log10(x)));
  return Number(x.toPrecision(1)).toFixed(digits);
}

export function percent(x: number): string {
  return `${(x * 100).toFixed(x === 1 || x === 0 ? 0 : 1)}%`;
}

/** A signed change in percentage points, e.g. "−1.2 points" or "no change". */
export function accuracyChange(delta: number | null): string {
  if (delta === null) return 'unknown (no test pictures)';
  const pts = delta * 100;
  if (Math.abs(pts) < 0.05) return 'no change';
  return `${pts > 0 ? '+' : '−'}${Math.abs(pts).toFixed(1)} points`;
}

/** "Matches the app on all 12 test images; largest probability difference 0.0000002". */
export function parityWords(e: Export): string | null {
  if (e.agreement === null || e.maxAbsDiff === null || e.imagesChecked === null) return null;
  const n = e.imagesChecked;
  const agreeing = Math.round(e.agreement * n);
  const diff = `largest probability difference ${smallNumber(e.maxAbsDiff)}`;
  const passed = e.parity?.passed ?? e.status === 'done';
  if (agreeing === n && passed) return `Matches the app on ${n === 1 ? 'the one test image' : `all ${n} test images`}; ${diff}`;
  return `${passed ? 'Agrees' : 'Does not match the app: agrees'} with the app on ${agreeing} of ${plural(n, 'test image')}; ${diff}`;
}

/** Why each artefact failed its check, e.g. "Model for apps: probabilities differ by 0.002 (allowed 0.0001)". */
export function parityFailures(e: Export): string[] {
  return (e.parity?.artefacts ?? [])
    .filter((a) => !a.passed)
    .map(
      (a) => `${PART_WORDS[a.artefact === 'onnx' ? 'onnx' : 'tfjs'].title}${a.quantized ? ' (8-bit)' : ''}: ${a.reason ?? 'did not match'}`,
    );
}
