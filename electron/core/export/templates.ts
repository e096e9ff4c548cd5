// Where the export templates (web demo, examples) and the TF.js browser runtime are. Source
// checkouts read them beside this file; a packaged app sets STUDIO_EXPORT_TEMPLATES to the copy
// in its resources (the esbuild bundle has no folder beside it).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

export function templatesDir(): string {
  const candidates = [process.env.STUDIO_EXPORT_TEMPLATES, path.join(path.dirname(fileURLToPath(import.meta.url)), 'templates')].filter(
    (d): d is string => !!d,
  );
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'web-demo', 'index.html')));
  if (!found) throw new Error(`The export templates are missing (looked in ${candidates.join(', ')}).`);
  return found;
}

export function template(rel: string): string {
  return path.join(templatesDir(), rel);
}

/** The TF.js browser build (tfjs-core, layers, cpu + webgl backends) from the app's own node_modules. */
export function tfjsBrowserRuntime(): string {
  return require.resolve('@tensorflow/tfjs/dist/tf.min.js');
}

export function tfjsVersion(): string {
  return (JSON.parse(fs.readFileSync(require.resolve('@tensorflow/tfjs/package.json'), 'utf8')) as { version: string }).version;
}
