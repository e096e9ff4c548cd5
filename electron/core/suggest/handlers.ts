// The suggest.* calls: views of the Images tab built from the quick model's suggestions (and, for
// mistakes and doubted labels, from the last finished run), and accepting suggestions as
// undoable actions. A bulk accept takes exactly the set its view shows, computed by the same
// function, for the version of the suggestions the view was showing.
import type { Db } from '../db/connection.js';
import { StudioError, type Handlers } from '../../shared/contract.js';
import type { suggestCalls, SuggestRow, SuggestView } from '../../shared/contract-suggest.js';
import { acceptSuggestions, historyState } from '../library/history.js';
import { getProject } from '../library/projects.js';
import { evalReport } from '../eval/report.js';
import type { SuggestionService } from './service.js';

type SuggestHandlers = Pick<Handlers, keyof typeof suggestCalls>;

interface ImageNow {
  id: number;
  label_id: number | null;
  status: 'active' | 'excluded';
  original_name: string;
}

function imagesNow(db: Db, projectId: number): Map<number, ImageNow> {
  const rows = db.prepare('SELECT id, label_id, status, original_name FROM images WHERE project_id = ?').all(projectId) as ImageNow[];
  return new Map(rows.map((r) => [r.id, r]));
}

/** Unlabeled pictures (as they are now) with their suggestion, in the view's order. */
function suggestedRows(db: Db, service: SuggestionService, projectId: number, view: SuggestView): SuggestRow[] {
  const s = service.suggestions(projectId);
  const now = imagesNow(db, projectId);
  const rows: SuggestRow[] = [];
  for (const [imageId, sug] of s.byImage) {
    const img = now.get(imageId);
    if (!img || img.label_id !== null) continue;
    const labelId = s.labelIds[sug.best]!;
    if (view.kind === 'suggested' && (labelId !== view.labelId || sug.confidence < view.minPercent / 100)) continue;
    rows.push({
      imageId,
      labelId: null,
      status: img.status,
      suggestedLabelId: labelId,
      suggestedLabel: s.labelNames[sug.best]!,
      confidence: sug.confidence,
      margin: sug.margin,
    });
  }
  if (view.kind === 'leastSure') rows.sort((a, b) => a.margin! - b.margin! || a.imageId - b.imageId);
  else rows.sort((a, b) => b.confidence - a.confidence || a.imageId - b.imageId);
  return rows;
}

function lastRun(db: Db, projectId: number): number | null {
  const r = db.prepare("SELECT id FROM runs WHERE project_id = ? AND status = 'done' ORDER BY id DESC LIMIT 1").get(projectId) as
    { id: number } | undefined;
  return r?.id ?? null;
}

/** The last finished run's wrong pictures (worst first) or doubted labels (most doubtful first), as they are now. */
function runRows(db: Db, projectId: number, kind: 'mistakes' | 'suspected'): { runId: number | null; rows: SuggestRow[] } {
  const runId = lastRun(db, projectId);
  if (runId === null) return { runId, rows: [] };
  const report = evalReport(db, runId);
  const now = imagesNow(db, projectId);
  const labelIds = new Map(
    (db.prepare('SELECT id, name FROM labels WHERE project_id = ?').all(projectId) as { id: number; name: string }[]).map((l) => [
      l.name,
      l.id,
    ]),
  );
  const row = (imageId: number, predicted: string, confidence: number): SuggestRow[] => {
    const img = now.get(imageId);
    if (!img) return [];
    return [
      {
        imageId,
        labelId: img.label_id,
        status: img.status,
        suggestedLabelId: labelIds.get(predicted) ?? null,
        suggestedLabel: predicted,
        confidence,
        margin: null,
      },
    ];
  };
  if (kind === 'suspected')
    return { runId, rows: report.suspectedLabelErrors.flatMap((d) => row(d.imageId, d.suggestedLabel, d.confidence)) };
  const wrong = report.images
    .filter((i) => i.label !== null && i.predicted !== i.label)
    .sort((a, b) => (b.loss ?? 0) - (a.loss ?? 0) || a.imageId - b.imageId);
  return { runId, rows: wrong.flatMap((i) => row(i.imageId, i.predicted, i.confidence)) };
}

const percent = (x: number) => `${Math.round(x * 100)}%`;

export function suggestHandlers(db: Db, service: SuggestionService): SuggestHandlers {
  const project = (projectId: number) => getProject(db, projectId).id;
  return {
    'suggest.status': ({ projectId }) => service.status(project(projectId)),
    'suggest.refresh': ({ projectId }) => service.refresh(project(projectId)),
    'suggest.page': ({ projectId, view, offset, limit }) => {
      project(projectId);
      const version = service.suggestions(projectId).version;
      const { runId, rows } =
        view.kind === 'mistakes' || view.kind === 'suspected'
          ? runRows(db, projectId, view.kind)
          : { runId: null, rows: suggestedRows(db, service, projectId, view) };
      return { version, total: rows.length, rows: rows.slice(offset, offset + limit), runId };
    },
    'suggest.accept': ({ projectId, labelId, minPercent, version }) => {
      project(projectId);
      const s = service.suggestions(projectId);
      if (version !== s.version)
        throw new StudioError(
          'conflict',
          'The suggestions changed since they were shown (new labels came in): look at them again, then accept.',
        );
      const index = s.labelIds.indexOf(labelId);
      if (index < 0) throw new StudioError('invalid', 'The suggestions do not know this label yet: label a few of its pictures first.');
      const rows = suggestedRows(db, service, projectId, { kind: 'suggested', labelId, minPercent });
      const accepted = acceptSuggestions(
        db,
        projectId,
        labelId,
        rows.map((r) => ({ id: r.imageId, confidence: r.confidence })),
        `Accept ${rows.length} suggestion${rows.length === 1 ? '' : 's'} for ${s.labelNames[index]} at ${minPercent}% or more`,
      );
      return { accepted, history: historyState(db, projectId) };
    },
    'suggest.acceptOne': ({ projectId, imageId }) => {
      project(projectId);
      const s = service.suggestions(projectId);
      const sug = s.byImage.get(imageId);
      if (!sug)
        throw new StudioError('invalid', 'This picture has no suggestion: it has a label already, or suggestions are not ready yet.');
      const labelId = s.labelIds[sug.best]!;
      const accepted = acceptSuggestions(
        db,
        projectId,
        labelId,
        [{ id: imageId, confidence: sug.confidence }],
        `Accept suggestion ${s.labelNames[sug.best]} (${percent(sug.confidence)})`,
      );
      return { accepted, history: historyState(db, projectId) };
    },
    'suggest.forImages': ({ projectId, imageIds }) => {
      project(projectId);
      const s = service.suggestions(projectId);
      const asked = [...new Set(imageIds)].filter((id) => s.byImage.has(id));
      // Labeled since the suggestions were made: a label a person (or a folder, a CSV) gave wins.
      const unlabeled = new Set(
        asked.length
          ? (
              db
                .prepare(`SELECT id FROM images WHERE project_id = ? AND label_id IS NULL AND id IN (${asked.map(() => '?').join(',')})`)
                .all(projectId, ...asked) as { id: number }[]
            ).map((r) => r.id)
          : [],
      );
      const rows = asked
        .filter((id) => unlabeled.has(id))
        .map((imageId) => {
          const sug = s.byImage.get(imageId)!;
          return { imageId, labelId: s.labelIds[sug.best]!, label: s.labelNames[sug.best]!, confidence: sug.confidence };
        });
      return { version: s.version, rows };
    },
    'suggest.report': ({ projectId }) => {
      const status = service.status(project(projectId));
      const s = service.suggestions(projectId);
      const now = imagesNow(db, projectId);
      const suggestions = suggestedRows(db, service, projectId, { kind: 'leastSure' })
        .sort((a, b) => b.confidence - a.confidence || a.imageId - b.imageId)
        .map((r) => ({
          imageId: r.imageId,
          originalName: now.get(r.imageId)?.original_name ?? '',
          suggestedLabel: r.suggestedLabel,
          confidence: r.confidence,
          margin: r.margin ?? 0,
          probabilities: s.byImage.get(r.imageId)!.probabilities,
        }));
      return {
        projectId,
        version: status.version,
        state: status.state,
        message: status.message,
        model: { ...service.model, trainedOn: status.trainedOn },
        labels: s.labelNames,
        suggestions,
      };
    },
  };
}
