export declare const DType: { float: number; uint8: number; int64: number };
export type AttrValue = number | number[] | string;
export declare class GraphBuilder {
  constructor(name: string);
  input(name: string, dtype: number, dims: Array<number | string>): string;
  output(name: string, dtype: number, dims: Array<number | string>): string;
  floats(name: string, dims: number[], values: ArrayLike<number>): string;
  int64s(name: string, dims: number[], values: number[]): string;
  node(op: string, inputs: string[], attrs?: Record<string, AttrValue>, outputs?: string[]): string;
  toBytes(docString?: string): Uint8Array;
}
