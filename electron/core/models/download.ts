// Downloads a catalogue entry into the store: every file streamed with Node's fetch into a
// temporary folder, counted and hashed on the way, then validated like an imported folder and
// renamed into place. Any failure (HTTP, size, checksum, cancel) leaves nothing in the store.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CatalogueEntry, type ModelInfo } from '../../shared/contract-models.js';
import { describeIssues } from '../../shared/contract.js';
import { ModelStoreError } from './errors.js';
import { readScaling } from './scaling.js';
import { commitTempFolder, modelsRoot, newTempDir, type StoreCtx } from './store.js';
import { safeRelativePath, validateModelFolder } from './validate.js';

export interface DownloadProgress {
  /** The file being fetched (its path in the model folder). */
  file: string;
  bytesDone: number;
  bytesTotal: number;
  /** From the average rate so far; null until there is one. */
  etaMs: number | null;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Minimum time between progress reports (the last one of each file is always sent). */
  progressEveryMs?: number;
}

function checkEntry(raw: unknown): CatalogueEntry {
  const parsed = CatalogueEntry.safeParse(raw);
  if (!parsed.success) throw new ModelStoreError('badMetadata', `The catalogue entry is not valid: ${describeIssues(parsed.error)}`);
  const entry = parsed.data;
  const seen = new Set<string>();
  for (const f of entry.files) {
    const rel = f.path === 'model.json' ? f.path : safeRelativePath(f.path, 'Catalogue file');
    if (seen.has(rel)) throw new ModelStoreError('badMetadata', `The catalogue entry lists "${rel}" twice.`);
    seen.add(rel);
    const scheme = new URL(f.url).protocol;
    if (scheme !== 'https:' && scheme !== 'http:')
      throw new ModelStoreError('unsafePath', `The catalogue entry's URL for "${rel}" is not http(s).`);
  }
  if (!seen.has('model.json')) throw new ModelStoreError('badMetadata', `The catalogue entry "${entry.id}" has no model.json.`);
  return entry;
}

function cancelled(): ModelStoreError {
  return new ModelStoreError('cancelled', 'The download was cancelled; nothing was kept.');
}

export async function downloadModel(ctx: StoreCtx, rawEntry: CatalogueEntry, options: DownloadOptions = {}): Promise<ModelInfo> {
  const entry = checkEntry(rawEntry);
  const { signal, onProgress } = options;
  const every = options.progressEveryMs ?? 100;
  if (ctx.models.isBuiltIn(entry.id) || fs.existsSync(path.join(modelsRoot(ctx), entry.id))) {
    throw new ModelStoreError('exists', `"${entry.name}" (${entry.id}) is already in the store.`);
  }
  if (signal?.aborted) throw cancelled();

  const bytesTotal = entry.files.reduce((s, f) => s + f.bytes, 0);
  const started = Date.now();
  let bytesDone = 0;
  let lastReport = 0;
  const report = (file: string, force: boolean) => {
    const now = Date.now();
    if (!onProgress || (!force && now - lastReport < every)) return;
    lastReport = now;
    const elapsed = now - started;
    const etaMs = bytesDone > 0 && elapsed > 0 ? Math.round((elapsed / bytesDone) * (bytesTotal - bytesDone)) : null;
    onProgress({ file, bytesDone, bytesTotal, etaMs });
  };

  const tmp = newTempDir(ctx, 'download');
  try {
    for (const f of entry.files) {
      const to = path.join(tmp, ...f.path.split(/[\\/]+/));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      const fail = (why: string) => new ModelStoreError('http', `Downloading "${f.path}" failed: ${why}. Nothing was kept.`);
      let res: Response;
      try {
        res = await fetch(f.url, { signal: signal ?? null, redirect: 'follow' });
      } catch (err) {
        if (signal?.aborted) throw cancelled();
        const cause = (err as { cause?: { message?: string } }).cause?.message;
        throw fail(cause ?? (err as Error).message);
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel().catch(() => undefined);
        throw fail(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
      }
      const announced = Number(res.headers.get('content-length') ?? NaN);
      if (Number.isFinite(announced) && announced !== f.bytes && !res.headers.get('content-encoding')) {
        await res.body.cancel().catch(() => undefined);
        throw new ModelStoreError(
          'checksum',
          `"${f.path}" is ${announced} bytes on the server but the catalogue says ${f.bytes}; nothing was kept.`,
        );
      }
      const hash = crypto.createHash('sha256');
      const out = await fs.promises.open(to, 'w');
      let got = 0;
      try {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          got += chunk.byteLength;
          if (got > f.bytes)
            throw new ModelStoreError('checksum', `"${f.path}" is larger than the ${f.bytes} bytes the catalogue says; nothing was kept.`);
          hash.update(chunk);
          await out.write(chunk);
          bytesDone += chunk.byteLength;
          report(f.path, false);
        }
      } catch (err) {
        if (signal?.aborted) throw cancelled();
        if (err instanceof ModelStoreError) throw err;
        throw fail((err as Error).message);
      } finally {
        await out.close();
      }
      if (got !== f.bytes)
        throw new ModelStoreError('checksum', `"${f.path}" arrived with ${got} bytes but the catalogue says ${f.bytes}; nothing was kept.`);
      const digest = hash.digest('hex');
      if (digest !== f.sha256)
        throw new ModelStoreError(
          'checksum',
          `"${f.path}" failed its checksum (sha256 ${digest.slice(0, 12)}…, expected ${f.sha256.slice(0, 12)}…); nothing was kept.`,
        );
      report(f.path, true);
    }
    if (signal?.aborted) throw cancelled();

    const scaling = typeof entry.metadata.scaling === 'string' ? readScaling(entry.metadata.scaling)! : entry.metadata.scaling;
    const v = await validateModelFolder(tmp, {
      name: entry.name,
      source: entry.source,
      inputSize: entry.metadata.inputSize,
      scaling,
      ...(entry.metadata.featureLayer ? { featureLayer: entry.metadata.featureLayer } : {}),
    });
    if (signal?.aborted) throw cancelled();
    return await commitTempFolder(ctx, tmp, v, {
      id: entry.id,
      exactId: true,
      name: entry.name,
      source: entry.source,
      origin: 'downloaded',
      scaling,
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
