// What a run's saved model carries (electron/shared/contract-model-contents.ts): its weights,
// read from model.json's manifest, grouped by the pretrained network each belongs to. Weight
// names are `<layer>/<parameter>`; a layer belongs to the base that has a layer of that name (a
// fused model's trunks never share one, fused.ts), a fused model's own resizing and scaling
// layers to their trunk by tag (`trunk<N>_…`), the head's (`head_…`) to the classifier.
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { Db } from '../db/connection.js';
import type { ModelContents } from '../../shared/contract-model-contents.js';
import { StudioError } from '../../shared/contract.js';
import { getRun } from '../training/runs.js';
import { layerNamesOf } from '../engine/model-folder.js';

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype?: string;
}

/** The registry's lookups this needs: a base's folder (its layer names) and its name. */
type Models = { base(id: string): { dir: string }; describe(id: string): { name: string } };

const BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, uint8: 1, int8: 1, bool: 1 };

/** The bases of a saved model in trunk order: a fused model's trunks as its config lists them, else its one base. */
function trunkBases(config: { base?: string; fused?: { trunks?: { base: string }[] } }): string[] {
  const fused = config.fused?.trunks?.map((t) => t.base) ?? [];
  return fused.length ? fused : config.base ? [config.base] : [];
}

export function modelContents(db: Db, models: Models, runId: number): z.output<typeof ModelContents> {
  const run = getRun(db, runId);
  const dir = run.modelFolder;
  if (run.status !== 'done' || !dir || !fs.existsSync(path.join(dir, 'model.json')))
    throw new StudioError('not_found', `Run ${runId} has no saved model to describe.`);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
    weightsManifest?: { weights: ManifestWeight[] }[];
  };
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Parameters<typeof trunkBases>[0];
  const bases = trunkBases(config);
  // Layer name → trunk index, from each base's own model folder (an uninstalled base: its layers go to the first trunk below).
  const owner = new Map<string, number>();
  bases.forEach((id, i) => {
    try {
      for (const name of layerNamesOf(models.base(id).dir)) if (!owner.has(name)) owner.set(name, i);
    } catch {
      // Not installed any more: matched by elimination.
    }
  });
  const bytes = new Array<number>(bases.length).fill(0);
  let classifierBytes = 0;
  for (const w of (json.weightsManifest ?? []).flatMap((g) => g.weights)) {
    const size = w.shape.reduce((a, b) => a * b, 1) * (BYTES[w.dtype ?? 'float32'] ?? 4);
    const layer = w.name.split('/')[0]!;
    const tagged = /^trunk(\d+)_/.exec(layer);
    if (layer.startsWith('head_') || !bases.length) classifierBytes += size;
    else if (tagged && Number(tagged[1]) < bases.length) bytes[Number(tagged[1])]! += size;
    else bytes[owner.get(layer) ?? 0]! += size;
  }
  const trunks = bases.map((baseId, i) => ({ baseId, name: models.describe(baseId).name, bytes: bytes[i]! }));
  return { trunks, classifierBytes, totalBytes: classifierBytes + bytes.reduce((a, b) => a + b, 0) };
}

/** The `exports.modelContents` handler, as (ctx, args) like the other export calls' (call-router.ts gives it the export context). */
export const modelContentsHandlers = {
  'exports.modelContents': (ctx: { db: Db; models: Models }, { runId }: { runId: number }) => modelContents(ctx.db, ctx.models, runId),
};
