// Which parts an export writes: what was asked for, plus what those parts need, less what the
// run cannot give (recorded with the reason in manifest.json and the model card).
import { StudioError } from '../../shared/contract.js';
import { GRAPH_NOT_ONNX } from '../predict/onnx-model.js';
import { ALL_PARTS, type ExportFormat, type ExportPart } from './store.js';

/** A part asked for but not produced, and why (recorded in manifest.json and the model card). */
export interface SkippedPart {
  part: ExportPart;
  reason: string;
}

export function formatOf(parts: readonly ExportPart[]): ExportFormat {
  const set = new Set(parts);
  if (set.size === 1 && set.has('tfjs')) return 'tfjs';
  if (set.size === 1 && set.has('onnx')) return 'onnx';
  return 'bundle';
}

export function normaliseParts(parts: ExportPart[] | undefined): ExportPart[] {
  const set = new Set(parts && parts.length ? parts : ALL_PARTS);
  // The web demo runs the TF.js model; the examples run the ONNX one.
  if (set.has('web-demo')) set.add('tfjs');
  if (set.has('examples')) set.add('onnx');
  return ALL_PARTS.filter((p) => set.has(p));
}

/**
 * The asked-for parts this run can give. A run on a graph-model base has no ONNX model (and so
 * no examples, which run it): those are left out with the reason rather than failing the export.
 */
export function producibleParts(asked: ExportPart[], graphRun: boolean, runId: number): { parts: ExportPart[]; skipped: SkippedPart[] } {
  if (!graphRun) return { parts: asked, skipped: [] };
  const skipped: SkippedPart[] = [];
  if (asked.includes('onnx')) skipped.push({ part: 'onnx', reason: `no ONNX model: ${GRAPH_NOT_ONNX}` });
  if (asked.includes('examples')) skipped.push({ part: 'examples', reason: `the examples run the ONNX model, and ${GRAPH_NOT_ONNX}` });
  const parts = asked.filter((p) => p !== 'onnx' && p !== 'examples');
  if (parts.length === 0)
    throw new StudioError(
      'unsupported',
      `Run ${runId} cannot be exported as ONNX: ${GRAPH_NOT_ONNX}. Export it for TensorFlow.js instead.`,
    );
  return { parts, skipped };
}
