export declare const INPUT: { width: number; height: number };
export declare const MEAN: number[];
export declare const STD: number[];
export declare const STRIDE: number;
export declare function detectorWeights(): { w: number[]; b: number[] };
export declare function detectorBytes(): Uint8Array;
export default function generate(outDir: string): Promise<void>;
