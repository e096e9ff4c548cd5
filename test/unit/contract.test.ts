// Every call of the contract refuses hostile payloads before any handler runs, and the handler
// table cannot drift from the calls (compile-time checks below, run by `npm run typecheck`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from '../../electron/core/studio.js';
import { calls, methodName, parseArgs, StudioError, type Args, type Handlers, type Method } from '../../electron/shared/contract.js';
import { testEnvironment } from '../fixtures/environment.js';

/** One valid payload per call. Typed over every Method: a call without a sample is a compile error. */
const valid: { [M in Method]: Args<M> } = {
  'app.info': {},
  'app.diagnostics': { includeFileNames: true },
  'projects.list': {},
  'projects.create': { name: 'Birds' },
  'projects.rename': { projectId: 1, name: 'Fish' },
  'projects.delete': { projectId: 1 },
  'labels.counts': { projectId: 1 },
  'labels.create': { projectId: 1, name: 'owl', colour: '#aabbcc' },
  'labels.update': { projectId: 1, labelId: 1, name: 'owl', colour: '#aabbcc' },
  'labels.merge': { projectId: 1, sourceIds: [2], targetId: 1 },
  'labels.delete': { projectId: 1, labelId: 1 },
  'images.page': { projectId: 1, filter: { status: 'all' }, offset: 0, limit: 10 },
  'images.get': { projectId: 1, imageId: 1 },
  'images.assignLabel': { projectId: 1, selection: { kind: 'ids', ids: [1] }, labelId: 1 },
  'images.setStatus': { projectId: 1, selection: { kind: 'ids', ids: [1] }, status: 'excluded' },
  'images.remove': { projectId: 1, selection: { kind: 'ids', ids: [1] } },
  'images.capture': { projectId: 1, labelId: null, mime: 'image/png', dataBase64: 'iVBORw0KGgoAAAANSUhEUgAAAAE=' },
  'history.state': { projectId: 1 },
  'history.undo': { projectId: 1 },
  'history.redo': { projectId: 1 },
  'import.pickSource': { kind: 'folder' },
  'import.start': { projectId: 1, source: 'abcdefgh12345678', folderLabels: true },
  'import.cancel': { jobId: 'import-abc123' },
  'jobs.active': {},
  'models.list': {},
  'models.import': { source: 'abcdefgh12345678', scaling: '[0,1]' },
  'models.remove': { id: 'my_model' },
  'models.catalogue': {},
  'models.download': { entryId: 'mobilenet_v1' },
  'models.cancelDownload': { downloadId: 'download-abc123' },
  'training.defaults': {},
  'training.wizard': { projectId: 1, baseId: 'mobilenet_v2' },
  'training.quickPlan': { projectId: 1, baseId: 'mobilenet_v2' },
  'training.start': { projectId: 1, strategy: 'head', overrides: { epochs: 3 } },
  'training.cancel': { runId: 1 },
  'runs.list': { projectId: 1 },
  'runs.get': { runId: 1 },
  'runs.describe': { runId: 1, name: 'First try', notes: 'before relabeling the birds' },
  'splits.get': { projectId: 1 },
  'splits.set': { projectId: 1, settings: { seed: 2 } },
  'runs.classify': { runId: 1, mime: 'image/png', dataBase64: 'iVBORw0KGgoAAAANSUhEUgAAAAE=' },
  'runs.predictFiles': { runId: 1, files: 'abcdefgh12345678' },
  'runs.predictProject': { runId: 1 },
  'runs.cancelPrediction': { jobId: 'predict-abc123' },
  'runs.predictions': { runId: 1, offset: 0, limit: 10 },
  'exports.start': { runId: 1, formats: ['tfjs', 'onnx'], quantize: false, destination: 'abcdefgh12345678' },
  'exports.cancel': { jobId: 'export-abc123' },
  'exports.pickFolder': { runId: 1 },
  'exports.preview': { runId: 1, quantize: true },
  'exports.modelContents': { runId: 1 },
  'exports.list': { runId: 1 },
  'exports.reveal': { exportId: 1 },
  'dataset.export': { projectId: 1, format: 'csv', includeUnlabeled: true, includeExcluded: false, destination: 'abcdefgh12345678' },
  'dataset.cancelExport': { jobId: 'dataset-export-abc123' },
  'dataset.revealExport': { key: '0123456789abcdef' },
  'backup.create': { projectId: 1, destination: 'abcdefgh12345678' },
  'backup.reveal': { key: '0123456789abcdef' },
  'backup.pickFile': {},
  'backup.restore': { source: 'abcdefgh12345678' },
  'sample.create': {},
  'storage.project': { projectId: 1 },
  'runs.delete': { runId: 1 },
  'exports.delete': { exportId: 1 },
  'eval.report': { runId: 1 },
  'eval.compare': { runId: 1, otherRunId: 2 },
  'suggest.status': { projectId: 1 },
  'suggest.refresh': { projectId: 1 },
  'suggest.page': { projectId: 1, view: { kind: 'suggested', labelId: 1, minPercent: 90 }, offset: 0, limit: 50 },
  'suggest.accept': { projectId: 1, labelId: 1, minPercent: 90, version: 3 },
  'suggest.acceptOne': { projectId: 1, imageId: 1 },
  'suggest.forImages': { projectId: 1, imageIds: [1, 2] },
  'suggest.report': { projectId: 1 },
  'eval.confirmLabel': { projectId: 1, imageId: 2 },
  'eval.best': { projectId: 1 },
  'duplicates.find': { projectId: 1, runId: 2 },
  'duplicates.resolveLeak': { projectId: 1, imageIds: [3], split: 'train', acceptWarning: true },
};

const methods = Object.keys(calls) as Method[];
/** Wrong for every field of every call: no field of the contract accepts any of these. */
const HOSTILE_VALUES: [string, unknown][] = [
  ['negative id', -1],
  ['fraction', 0.5],
  ['control character', 'a\u0000b'],
  ['huge string', '<'.repeat(200_000)],
  ['array', [[]]],
  ['too-large number', 2 ** 60],
];
const HOSTILE_PAYLOADS: [string, unknown][] = [
  ['a string', 'projects'],
  ['a number', 42],
  ['an array', [1, 2]],
  ['a boolean', true],
];

let tmp: string;
let studio: Studio;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-contract-'));
  studio = new Studio({ environment: testEnvironment(tmp), host: 'cli' });
});
afterAll(() => {
  studio.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function expectInvalid(method: unknown, args: unknown): Promise<StudioError> {
  const err = await studio.invoke(method, args).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `${methodName(method)} ${JSON.stringify(args)?.slice(0, 80)}`).toBeInstanceOf(StudioError);
  expect((err as StudioError).code).toBe('invalid');
  return err as StudioError;
}

describe('contract validation', () => {
  it('has a valid sample for every call, which passes validation', () => {
    expect(Object.keys(valid).sort()).toEqual([...methods].sort());
    for (const m of methods) expect(() => parseArgs(m, valid[m]), m).not.toThrow();
  });

  it.each(methods)('%s refuses payloads that are not objects', async (m) => {
    for (const [, payload] of HOSTILE_PAYLOADS) await expectInvalid(m, payload);
  });

  it.each(methods)('%s refuses a wrong type, negative id or huge string in every field', async (m) => {
    const sample = valid[m] as Record<string, unknown>;
    for (const key of Object.keys(sample)) {
      for (const [, bad] of HOSTILE_VALUES) {
        const err = await expectInvalid(m, { ...sample, [key]: bad });
        // The message is shown to a person: it never names the call, and stays short, whatever was sent.
        expect(err.message).not.toContain(m);
        expect(err.message).not.toMatch(/\b(projects|training|runs|labels|images)\.[a-z]/i);
        expect(err.message.length).toBeLessThan(600);
      }
    }
  });

  it.each(methods.filter((m) => Object.keys(valid[m]).length > 0))('%s does not take its fields from __proto__', async (m) => {
    const sample = valid[m] as Record<string, unknown>;
    const required = Object.keys(sample).filter((k) => !calls[m].args.safeParse({ ...sample, [k]: undefined }).success);
    if (required.length === 0) return;
    const payload: unknown = JSON.parse(`{"__proto__": ${JSON.stringify(sample)}}`);
    await expectInvalid(m, payload);
    expect(({} as Record<string, unknown>)[required[0]!]).toBeUndefined(); // Object.prototype untouched
  });

  it('drops keys the contract does not know, so handlers never see them', () => {
    const { args } = parseArgs('projects.create', JSON.parse('{"name":"Birds","__proto__":{"admin":true},"sql":"DROP TABLE images"}'));
    expect(args).toEqual({ name: 'Birds' });
    expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
    expect((args as Record<string, unknown>).admin).toBeUndefined();
  });

  it('refuses unknown method names, including inherited property names', async () => {
    for (const name of [
      'fs.readFile',
      '',
      'projects.list ',
      'PROJECTS.LIST',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      42,
      null,
      undefined,
      {},
      ['projects.list'],
      // String() throws on these; naming them in the error must not.
      { toString: 1 },
      { toString: 1, valueOf: 1 },
      Object.create(null),
      Symbol('x'),
    ]) {
      const err = await expectInvalid(name, {});
      expect(err.message).toMatch(/^Unknown call/);
    }
  });

  it('refuses control characters and empty names but trims whitespace', async () => {
    await expectInvalid('projects.create', { name: 'a\u0000b' });
    await expectInvalid('projects.create', { name: '   ' });
    await expectInvalid('projects.create', { name: 'x'.repeat(121) });
    const p = (await studio.invoke('projects.create', { name: '  Birds  ' })) as { name: string };
    expect(p.name).toBe('Birds');
  });
});

// ---- Compile-time: the handler table and the calls cannot drift. ----
// These lines are checked by `tsc` (npm run typecheck); an unused @ts-expect-error fails it.
// The function is never called: only its types matter.
export function _handlerTableCannotDrift(handlers: Handlers): unknown[] {
  const { 'app.info': appInfo, ...missingOne } = handlers;
  // @ts-expect-error a table without 'app.info' is not a Handlers
  const missing: Handlers = missingOne;
  // @ts-expect-error a handler for a call the contract does not have is refused
  const extra = { ...handlers, 'files.readAny': () => 'nope' } satisfies Handlers;
  // @ts-expect-error a handler must return the call's result type
  const wrongResult: Handlers['projects.list'] = () => [{ id: 'one' }];
  return [appInfo, missing, extra, wrongResult];
}
