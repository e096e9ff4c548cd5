// A small ONNX graph builder over the onnx-proto protobuf classes: named values, nodes,
// float/int64 initializers kept as typed arrays until the end (so BatchNorm folding can
// rewrite a convolution's weights after its node exists), and serialisation.
import onnxProto from 'onnx-proto';

// onnx-proto (protobufjs and its generated classes) takes about 90 ms to load; it is read on first
// use so that processes which never build a graph (`studio project list`) do not pay for it.
const proto = () => onnxProto.onnx;

/** ONNX opset we emit. Opset 13: Softmax on any axis, Pad/Clip/Squeeze take tensor inputs. */
export const OPSET = 13;
/** IR version matching opset 13 (ONNX 1.8). */
const IR_VERSION = 7;

/** ONNX element types (onnx.TensorProto.DataType), read when used. */
export const DataType = {
  get FLOAT(): number {
    return proto().TensorProto.DataType.FLOAT;
  },
  get UINT8(): number {
    return proto().TensorProto.DataType.UINT8;
  },
  get INT64(): number {
    return proto().TensorProto.DataType.INT64;
  },
};

/** number = INT, {f} = FLOAT, number[] = INTS. Floats are explicit so alpha = 1 stays a float. */
export type AttrValue = number | { f: number } | string | number[];

/** Where a value's 4-D data physically lies: Keras order (NHWC) or transposed for ORT (NCHW). */
export type Layout = 'keras' | 'nchw';

/** A value in the graph. `shape` is always the Keras (channels-last) shape incl. batch (null). */
export interface Value {
  name: string;
  shape: (number | null)[];
  layout: Layout;
  /** Set when produced by a linear Conv whose weights we can still fold a BatchNorm into. */
  foldable?: { weight: string; bias: string | null; node: onnxProto.onnx.INodeProto; outChannels: number };
}

interface Initializer {
  name: string;
  dims: number[];
  type: 'float' | 'int64';
  data: Float32Array | BigInt64Array;
}

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers = new Map<string, Initializer>();
  private readonly used = new Set<string>();
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly layoutCache = new Map<string, Value>();

  /** A name not used before, derived from `base` (ONNX needs unique value names). */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}__${i}`;
    this.used.add(name);
    return name;
  }

  reserve(name: string): void {
    if (this.used.has(name)) throw new Error(`ONNX value name ${name} is already taken`);
    this.used.add(name);
  }

  addInput(name: string, elemType: number, dims: (number | string | null)[]): void {
    this.inputs.push(valueInfo(name, elemType, dims));
  }

  addOutput(name: string, elemType: number, dims: (number | string | null)[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  floatInit(base: string, dims: number[], data: Float32Array): string {
    const name = this.unique(base);
    this.initializers.set(name, { name, dims, type: 'float', data });
    return name;
  }

  int64Init(base: string, values: number[]): string {
    const name = this.unique(base);
    this.initializers.set(name, { name, dims: [values.length], type: 'int64', data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    return name;
  }

  scalar(base: string, v: number): string {
    const name = this.unique(base);
    this.initializers.set(name, { name, dims: [], type: 'float', data: Float32Array.of(v) });
    return name;
  }

  floatData(name: string): Float32Array {
    const init = this.initializers.get(name);
    if (!init || init.type !== 'float') throw new Error(`no float initializer ${name}`);
    return init.data as Float32Array;
  }

  setFloatData(name: string, data: Float32Array): void {
    const init = this.initializers.get(name);
    if (!init) throw new Error(`no initializer ${name}`);
    init.data = data;
  }

  /** Emits one node; returns its output names (fresh unique names unless given). */
  node(
    op: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    outBase = op,
    nOut = 1,
    outNames?: string[],
  ): { names: string[]; proto: onnxProto.onnx.INodeProto } {
    const names = outNames ?? Array.from({ length: nOut }, (_, i) => this.unique(nOut === 1 ? outBase : `${outBase}_${i}`));
    const proto: onnxProto.onnx.INodeProto = {
      opType: op,
      input: inputs,
      output: names,
      name: this.unique(`${outBase}/${op}`),
      attribute: Object.entries(attrs).map(([name, v]) => attribute(name, v)),
    };
    this.nodes.push(proto);
    return { names, proto };
  }

  one(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outBase = op): string {
    return this.node(op, inputs, attrs, outBase).names[0]!;
  }

  /** The value in NCHW order (4-D only); transposes once and remembers it. */
  toNchw(v: Value): Value {
    if (v.shape.length !== 4 || v.layout === 'nchw') return v;
    const key = `nchw:${v.name}`;
    const hit = this.layoutCache.get(key);
    if (hit) return hit;
    const out: Value = { name: this.one('Transpose', [v.name], { perm: [0, 3, 1, 2] }, `${v.name}_nchw`), shape: v.shape, layout: 'nchw' };
    this.layoutCache.set(key, out);
    return out;
  }

  /** The value in Keras order, as tfjs sees it. */
  toKeras(v: Value): Value {
    if (v.layout === 'keras') return v;
    const key = `keras:${v.name}`;
    const hit = this.layoutCache.get(key);
    if (hit) return hit;
    const out: Value = { name: this.one('Transpose', [v.name], { perm: [0, 2, 3, 1] }, `${v.name}_nhwc`), shape: v.shape, layout: 'keras' };
    this.layoutCache.set(key, out);
    return out;
  }

  encode(graphName: string, docString: string): Uint8Array {
    const initializer: onnxProto.onnx.ITensorProto[] = [...this.initializers.values()].map((init) => ({
      name: init.name,
      dims: init.dims,
      dataType: init.type === 'float' ? DataType.FLOAT : DataType.INT64,
      rawData: new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength),
    }));
    const model: onnxProto.onnx.IModelProto = {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'transfer-studio',
      producerVersion: '1',
      docString,
      graph: { name: graphName, node: this.nodes, initializer, input: this.inputs, output: this.outputs },
    };
    return proto().ModelProto.encode(proto().ModelProto.create(model)).finish();
  }
}

function valueInfo(name: string, elemType: number, dims: (number | string | null)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d ?? 'N' })) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = proto().AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer; pass {f} for a float`);
    return { name, type: T.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  return { name, type: T.FLOAT, f: v.f };
}
