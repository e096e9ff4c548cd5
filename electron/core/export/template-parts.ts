// The parts of an export made from the app's templates: the offline web demo (the TF.js model
// inlined into a page) and the Node and Python example scripts (which run the ONNX model).
import fs from 'node:fs';
import path from 'node:path';
import type { RunSource } from './run-source.js';
import { writeInlinedModelScript, type TfjsArtifacts } from './tfjs-artifacts.js';
import { template, tfjsBrowserRuntime, type TemplateResources } from './templates.js';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function writeWebDemo(resources: TemplateResources, dir: string, src: RunSource, tfjsModel: TfjsArtifacts, signature: object): void {
  const demo = path.join(dir, 'web-demo');
  fs.mkdirSync(demo, { recursive: true });
  // The user's own name for it; the labels are listed under the title.
  const title = src.projectName;
  fs.writeFileSync(
    path.join(demo, 'index.html'),
    fs.readFileSync(template(resources, 'web-demo/index.html'), 'utf8').replaceAll('{{TITLE}}', escapeHtml(title)),
  );
  fs.copyFileSync(tfjsBrowserRuntime(resources), path.join(demo, 'tf.min.js'));
  // A classic script, not JSON: file:// pages cannot fetch(), but they can load scripts.
  writeInlinedModelScript(
    path.join(demo, 'model.js'),
    tfjsModel,
    'STUDIO_MODEL',
    '// The exported TF.js model inlined for the offline demo (same as ../tfjs/).',
    { labels: src.labels, signature },
  );
}

export function writeExamples(resources: TemplateResources, dir: string): void {
  for (const rel of [
    'examples/node/classify.mjs',
    'examples/node/package.json',
    'examples/python/classify.py',
    'examples/python/requirements.txt',
  ]) {
    const to = path.join(dir, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(template(resources, rel), to);
  }
}
