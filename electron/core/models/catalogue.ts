// The online catalogue: a small JSON list of model folders, each file with its URL, size and
// sha256. The shipped list (catalogue.json) is empty until someone fills it in while online
// (describeFolder helps: it hashes a local copy of the files); the environment's
// modelCatalogue setting (STUDIO_MODEL_CATALOGUE) points at another list.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import shipped from './catalogue.json' with { type: 'json' };
import { Catalogue, type CatalogueEntry, type CatalogueFile } from '../../shared/contract-models.js';
import { describeIssues } from '../../shared/contract.js';
import { ModelStoreError } from './errors.js';

export function parseCatalogue(raw: unknown, where: string): CatalogueEntry[] {
  const parsed = Catalogue.safeParse(raw);
  if (!parsed.success)
    throw new ModelStoreError('badMetadata', `The model catalogue ${where} is not valid: ${describeIssues(parsed.error)}`);
  const ids = new Set<string>();
  for (const e of parsed.data.entries) {
    if (ids.has(e.id)) throw new ModelStoreError('badMetadata', `The model catalogue ${where} lists "${e.id}" twice.`);
    ids.add(e.id);
  }
  return parsed.data.entries;
}

/** The catalogue in use: `file` (a JSON file) if given, else the shipped one. */
export function loadCatalogue(file?: string): CatalogueEntry[] {
  if (!file) return parseCatalogue(shipped, '(built in)');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ModelStoreError(
      'notJson',
      `The model catalogue ${path.basename(file)} cannot be read (${(err as Error).message.slice(0, 120)}).`,
    );
  }
  return parseCatalogue(raw, path.basename(file));
}

/**
 * The `files` of a catalogue entry for a model folder you have locally (model.json and its
 * weight files), served under `baseUrl`. Used to fill the catalogue, and by the tests.
 */
export function describeFolder(dir: string, baseUrl: string, names?: string[]): CatalogueFile[] {
  const list =
    names ??
    fs
      .readdirSync(dir)
      .filter((n) => n !== 'metadata.json' && fs.statSync(path.join(dir, n)).isFile())
      .sort((a, b) => (a === 'model.json' ? -1 : b === 'model.json' ? 1 : a.localeCompare(b)));
  return list.map((name) => {
    const bytes = fs.readFileSync(path.join(dir, name));
    return {
      path: name,
      url: new URL(name, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).href,
      bytes: bytes.byteLength,
      sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    };
  });
}
