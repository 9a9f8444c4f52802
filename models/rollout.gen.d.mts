export interface Trajectory {
  cls: number;
  xs: Float64Array;
  ys: Float64Array;
}
export declare const HELDOUT_SEEDS: number[];
export declare function trajectories(seeds: number[], stride?: number, span?: number): Promise<Trajectory[]>;
export default function generate(outDir: string): Promise<void>;
