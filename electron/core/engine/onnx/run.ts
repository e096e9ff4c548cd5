// Running converted models: batches of RGB uint8 images in, one Float32Array per output out,
// and a pipeline that keeps the next batch decoding (sharp, on libuv's thread pool) while ORT
// runs the current one (ORT's run is synchronous on the calling thread, using its own threads).
import * as ort from 'onnxruntime-node';

export interface BatchResult {
  /** Per output name: all images' values, image after image. */
  outputs: Record<string, Float32Array>;
  /** Per output name: values per image. */
  sizes: Record<string, number>;
  count: number;
}

/** `images`: N·H·W·3 uint8 bytes (or one Uint8Array per image); H, W from the model's input. */
export async function runBatches(
  session: ort.InferenceSession,
  images: Uint8Array | Uint8Array[],
  batchSize: number,
  signal?: AbortSignal,
): Promise<BatchResult> {
  const meta = session.inputMetadata[0];
  if (!meta || !meta.isTensor) throw new Error('model has no tensor input');
  const [, h, w, c] = meta.shape as (number | string)[];
  if (typeof h !== 'number' || typeof w !== 'number' || typeof c !== 'number')
    throw new Error(`model input needs a fixed H, W, C (got ${JSON.stringify(meta.shape)})`);
  const per = h * w * c;
  const list = Array.isArray(images) ? images : splitImages(images, per);
  const acc = new OutputAccumulator();
  for (let i = 0; i < list.length; i += batchSize) {
    signal?.throwIfAborted();
    const batch = list.slice(i, i + batchSize);
    acc.add(await runBatch(session, batch, [h, w, c]));
  }
  return acc.finish(list.length);
}

function splitImages(all: Uint8Array, per: number): Uint8Array[] {
  if (all.length % per !== 0) throw new Error(`image bytes (${all.length}) are not a multiple of one image (${per})`);
  const out: Uint8Array[] = [];
  for (let o = 0; o < all.length; o += per) out.push(all.subarray(o, o + per));
  return out;
}

/** One ORT run on up to batchSize images; returns each output's data (copied out of ORT). */
export async function runBatch(
  session: ort.InferenceSession,
  images: Uint8Array[],
  hwc: [number, number, number],
): Promise<Record<string, { data: Float32Array; perImage: number }>> {
  const per = hwc[0] * hwc[1] * hwc[2];
  const buf = new Uint8Array(images.length * per);
  images.forEach((img, j) => {
    if (img.length !== per) throw new Error(`image ${j} has ${img.length} bytes, the model takes ${per} (${hwc.join('×')})`);
    buf.set(img, j * per);
  });
  const inputName = session.inputNames[0]!;
  const feeds = { [inputName]: new ort.Tensor('uint8', buf, [images.length, ...hwc]) };
  const result = await session.run(feeds);
  const out: Record<string, { data: Float32Array; perImage: number }> = {};
  for (const name of session.outputNames) {
    const t = result[name] as ort.Tensor;
    out[name] = { data: Float32Array.from(t.data as Float32Array), perImage: (t.data as Float32Array).length / images.length };
    t.dispose();
  }
  return out;
}

/**
 * For models whose input is not an image (e.g. a head converted on its own, input = pooled
 * features): `features` holds N rows of the input's fixed per-item size, row after row.
 */
export async function runFeatureBatches(
  session: ort.InferenceSession,
  features: Float32Array,
  batchSize: number,
  signal?: AbortSignal,
): Promise<BatchResult> {
  const meta = session.inputMetadata[0];
  if (!meta || !meta.isTensor) throw new Error('model has no tensor input');
  const dims = (meta.shape as (number | string)[]).slice(1);
  if (!dims.every((d): d is number => typeof d === 'number'))
    throw new Error(`model input needs fixed non-batch dimensions (got ${JSON.stringify(meta.shape)})`);
  const per = dims.reduce((a, b) => a * b, 1);
  if (features.length % per !== 0) throw new Error(`feature values (${features.length}) are not a multiple of one item (${per})`);
  const count = features.length / per;
  const acc = new OutputAccumulator();
  for (let i = 0; i < count; i += batchSize) {
    signal?.throwIfAborted();
    const n = Math.min(batchSize, count - i);
    const input = new ort.Tensor('float32', features.slice(i * per, (i + n) * per), [n, ...dims]);
    const result = await session.run({ [session.inputNames[0]!]: input });
    const batch: Record<string, { data: Float32Array; perImage: number }> = {};
    for (const name of session.outputNames) {
      const t = result[name] as ort.Tensor;
      batch[name] = { data: Float32Array.from(t.data as Float32Array), perImage: (t.data as Float32Array).length / n };
      t.dispose();
    }
    acc.add(batch);
  }
  return acc.finish(count);
}

class OutputAccumulator {
  private readonly parts = new Map<string, { chunks: Float32Array[]; perImage: number }>();
  add(batch: Record<string, { data: Float32Array; perImage: number }>): void {
    for (const [name, { data, perImage }] of Object.entries(batch)) {
      const p = this.parts.get(name) ?? { chunks: [], perImage };
      p.chunks.push(data);
      this.parts.set(name, p);
    }
  }
  finish(count: number): BatchResult {
    const outputs: Record<string, Float32Array> = {};
    const sizes: Record<string, number> = {};
    for (const [name, { chunks, perImage }] of this.parts) {
      const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
      let o = 0;
      for (const c of chunks) {
        all.set(c, o);
        o += c.length;
      }
      outputs[name] = all;
      sizes[name] = perImage;
    }
    return { outputs, sizes, count };
  }
}

export interface PipelineOptions {
  batchSize: number;
  /** Decodes item i to the model's RGB uint8 input (e.g. decodeForModel(bytes, size)). */
  decode: (index: number) => Promise<Uint8Array>;
  count: number;
  /** Images decoded ahead of inference; default 2 batches. */
  prefetch?: number;
  signal?: AbortSignal;
  /** Called after each batch with the number of images done. */
  onProgress?: (done: number) => void;
  /** A decode failure: return null to skip the image (its rows are NaN), or rethrow. */
  onDecodeError?: (index: number, err: unknown) => null;
}

/**
 * Decode-while-infer: decoding of the next images is started before each ORT run, so sharp's
 * worker threads and ORT's intra-op threads share the cores instead of taking turns.
 */
export async function runPipeline(session: ort.InferenceSession, opts: PipelineOptions): Promise<BatchResult> {
  const meta = session.inputMetadata[0];
  if (!meta || !meta.isTensor) throw new Error('model has no tensor input');
  const [, h, w, c] = meta.shape as number[];
  const hwc: [number, number, number] = [h!, w!, c!];
  const per = hwc[0] * hwc[1] * hwc[2];
  const prefetch = opts.prefetch ?? opts.batchSize * 2;
  const pending: Promise<Uint8Array | null>[] = [];
  let next = 0;
  const launch = (): void => {
    while (next < opts.count && pending.length < prefetch) {
      const i = next++;
      pending.push(
        opts.decode(i).catch((err: unknown) => {
          if (opts.onDecodeError) return opts.onDecodeError(i, err);
          throw err;
        }),
      );
    }
  };
  const acc = new OutputAccumulator();
  let done = 0;
  try {
    launch();
    while (done < opts.count) {
      opts.signal?.throwIfAborted();
      const n = Math.min(opts.batchSize, opts.count - done);
      const decoded = await Promise.all(pending.splice(0, n));
      launch();
      const present = decoded.map((d) => d ?? new Uint8Array(per));
      const out = await runBatch(session, present, hwc);
      decoded.forEach((d, j) => {
        if (d === null) for (const o of Object.values(out)) o.data.fill(Number.NaN, j * o.perImage, (j + 1) * o.perImage);
      });
      acc.add(out);
      done += n;
      opts.onProgress?.(done);
    }
  } finally {
    // Decodes still in flight after a cancel or failure must not surface as unhandled rejections.
    for (const p of pending) p.catch(() => undefined);
  }
  return acc.finish(opts.count);
}
