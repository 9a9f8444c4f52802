// A small ONNX graph builder over onnx-proto: explicit weights in, model bytes out. Used by the
// model generators here and by stages that build their ONNX graph from parameters at start-up.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;
export const DType = { float: T.FLOAT, uint8: T.UINT8, int64: T.INT64 };

export class GraphBuilder {
  constructor(name) {
    this.name = name;
    this.nodes = [];
    this.inits = [];
    this.inputs = [];
    this.outputs = [];
    this.counter = 0;
  }

  /** A graph input; dims may hold strings for symbolic sizes. */
  input(name, dtype, dims) {
    this.inputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  output(name, dtype, dims) {
    this.outputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  /** A float32 initializer. */
  floats(name, dims, values) {
    this.inits.push(onnx.TensorProto.create({ name, dims, dataType: T.FLOAT, floatData: Array.from(values) }));
    return name;
  }

  int64s(name, dims, values) {
    this.inits.push(onnx.TensorProto.create({ name, dims, dataType: T.INT64, int64Data: values.map((v) => Number(v)) }));
    return name;
  }

  /** Adds a node; returns its (first) output name. attrs: {name: number | number[] | string}. */
  node(op, inputs, attrs = {}, outputs) {
    const outs = outputs ?? [`${op.toLowerCase()}_${this.counter++}`];
    const attribute = Object.entries(attrs).map(([name, v]) => attr(name, v));
    this.nodes.push(onnx.NodeProto.create({ opType: op, input: inputs, output: outs, attribute, name: `${op}_${this.nodes.length}` }));
    return outs[0];
  }

  /** Model bytes (opset 17). */
  toBytes(docString = '') {
    const graph = onnx.GraphProto.create({ name: this.name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'xauto',
      docString,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 17 })],
      graph,
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name, dtype, dims) {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: dtype, shape: { dim } } } });
}

function attr(name, v) {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: A.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) {
    return v.every(Number.isInteger)
      ? onnx.AttributeProto.create({ name, type: A.INTS, ints: v })
      : onnx.AttributeProto.create({ name, type: A.FLOATS, floats: v });
  }
  return Number.isInteger(v) ? onnx.AttributeProto.create({ name, type: A.INT, i: v }) : onnx.AttributeProto.create({ name, type: A.FLOAT, f: v });
}
