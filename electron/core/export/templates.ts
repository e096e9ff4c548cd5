// Where the export templates (web demo, examples) and the TF.js browser runtime are: resources
// of the environment (environment.ts), the checkout's folders in development and copies in the
// package's resources folder when installed.
import fs from 'node:fs';
import path from 'node:path';
import type { ResourceLocations } from '../environment.js';

export type TemplateResources = Pick<ResourceLocations, 'templatesDir' | 'tfjsRuntime'>;

export function template(resources: TemplateResources, rel: string): string {
  const file = path.join(resources.templatesDir, rel);
  if (!fs.existsSync(file)) throw new Error(`The export template ${rel} is missing (looked in ${resources.templatesDir}).`);
  return file;
}

/** The TF.js browser build (tfjs-core, layers, cpu + webgl backends) the web demo loads. */
export function tfjsBrowserRuntime(resources: TemplateResources): string {
  const file = resources.tfjsRuntime.file;
  if (!fs.existsSync(file)) throw new Error(`The TF.js browser runtime is missing (looked for ${file}).`);
  return file;
}
