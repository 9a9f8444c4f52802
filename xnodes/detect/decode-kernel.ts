// Box decoding of detector outputs into image-pixel boxes:
// - heatmaps [1, C, h, w] (per-class coverage, the generated detector): connected regions of
//   cells at or above `threshold`, edges refined to sub-cell precision from the coverage of the
//   border cells and their outside neighbours;
// - YOLOv8 heads [1, 4 + C, N] (cx, cy, w, h in input pixels, then class scores): best class
//   per anchor at or above `score_threshold`.
// NMS is a separate stage.
import type { PortValues } from '../../runtime/xnode/types.js';
import type { CameraInfo, Detections2D, Header, StampedTensor } from '../perception-common/messages.js';
import type { PerceptionAddon } from '../perception-common/native.js';

export interface DecodeParams {
  threshold: number;
  score_threshold: number;
  min_cells: number;
  input_width: number;
  input_height: number;
  class_map: number[];
}

/** Why a tensor cannot be decoded, or undefined. */
export function checkHead(dims: unknown, data: unknown): string | undefined {
  if (!Array.isArray(dims) || !(data instanceof Float32Array)) return 'expected an xauto/Tensor {dims: number[], data: Float32Array}';
  const n = dims.reduce((a: number, b: number) => a * b, 1);
  if (n !== data.length) return `dims [${dims.join(', ')}] hold ${n} values, data has ${data.length}`;
  if (dims[0] !== 1 || (dims.length !== 4 && dims.length !== 3)) {
    return `dims [${dims.join(', ')}]: expected a heatmap [1, C, h, w] or a YOLOv8 head [1, 4 + C, N]`;
  }
  if (dims.length === 3 && dims[1]! < 5) return `dims [${dims.join(', ')}]: a YOLOv8 head needs 4 box rows + at least one class row`;
  return undefined;
}

const NO_STAMP = { stamp: { sec: 0, nanosec: 0 }, frame_id: '' };

/** What every decode implementation reads from its inputs. */
export interface DecodeInput {
  dims: number[];
  data: Float32Array;
  /** The head's stamp in the camera's frame. */
  header: Header;
  /** The image the boxes are scaled to: CameraInfo's size, else the tensor's (boxes stay in tensor pixels). */
  imageWidth: number;
  imageHeight: number;
}

/** The head and the image it belongs to, or why the head cannot be decoded. */
export function decodeInput(inputs: PortValues, p: DecodeParams): DecodeInput | string {
  const t = inputs.head as StampedTensor;
  const info = inputs.camera_info as CameraInfo | undefined;
  const bad = checkHead(t?.dims, t?.data);
  if (bad) return bad;
  const header = t.header ?? NO_STAMP;
  return {
    dims: t.dims,
    data: t.data,
    header: { ...header, frame_id: info?.header.frame_id ?? header.frame_id },
    imageWidth: info && info.width > 0 ? info.width : p.input_width,
    imageHeight: info && info.height > 0 ? info.height : p.input_height,
  };
}

export class Decoder {
  private labels = new Int32Array(0);
  private stack = new Int32Array(0);
  // Output scratch grows as needed; results are copied out at their exact size.
  private boxes = new Float32Array(256 * 4);
  private scores = new Float32Array(256);
  private classes = new Int32Array(256);
  private n = 0;

  constructor(readonly p: DecodeParams) {}

  /** The same decoding on the perception addon's threads (native/perception/src/decode.cc). */
  static async native(addon: PerceptionAddon, p: DecodeParams, map: Int32Array, dims: number[], data: Float32Array, header: Header, imageWidth: number, imageHeight: number): Promise<Detections2D> {
    const sx = imageWidth / p.input_width;
    const sy = imageHeight / p.input_height;
    const r =
      dims.length === 4
        ? await addon.decodeHeatmap(data, dims[1]!, dims[2]!, dims[3]!, p.threshold, p.min_cells, (p.input_width / dims[3]!) * sx, (p.input_height / dims[2]!) * sy)
        : await addon.decodeYolo(data, dims[1]!, dims[2]!, p.score_threshold, map, sx, sy);
    return { header, count: r.scores.length, ...r };
  }

  decode(dims: number[], data: Float32Array, header: Header, imageWidth: number, imageHeight: number): Detections2D {
    this.n = 0;
    const sx = imageWidth / this.p.input_width;
    const sy = imageHeight / this.p.input_height;
    if (dims.length === 4) this.heatmap(dims, data, sx, sy);
    else this.yolo(dims, data, sx, sy);
    const n = this.n;
    return { header, count: n, boxes: this.boxes.slice(0, n * 4), scores: this.scores.slice(0, n), classes: this.classes.slice(0, n) };
  }

  private push(x1: number, y1: number, x2: number, y2: number, score: number, cls: number): void {
    if (this.n === this.scores.length) {
      const boxes = new Float32Array(this.boxes.length * 2);
      const scores = new Float32Array(this.scores.length * 2);
      const classes = new Int32Array(this.classes.length * 2);
      boxes.set(this.boxes);
      scores.set(this.scores);
      classes.set(this.classes);
      [this.boxes, this.scores, this.classes] = [boxes, scores, classes];
    }
    const i = this.n++;
    this.boxes[i * 4] = x1;
    this.boxes[i * 4 + 1] = y1;
    this.boxes[i * 4 + 2] = x2;
    this.boxes[i * 4 + 3] = y2;
    this.scores[i] = score;
    this.classes[i] = cls;
  }

  private heatmap(dims: number[], data: Float32Array, sx: number, sy: number): void {
    const [, C, h, w] = dims as [number, number, number, number];
    const cells = h * w;
    if (this.labels.length < cells) {
      this.labels = new Int32Array(cells);
      this.stack = new Int32Array(cells);
    }
    const strideX = (this.p.input_width / w) * sx;
    const strideY = (this.p.input_height / h) * sy;
    const thr = this.p.threshold;
    const labels = this.labels;
    const stack = this.stack;
    for (let c = 0; c < C; c++) {
      const base = c * cells;
      labels.fill(0, 0, cells);
      for (let seed = 0; seed < cells; seed++) {
        if (labels[seed] !== 0 || data[base + seed]! < thr) continue;
        // Flood fill one region (4-connected).
        let top = 0;
        stack[top++] = seed;
        labels[seed] = 1;
        let c0 = w, c1 = -1, r0 = h, r1 = -1, sum = 0, count = 0;
        while (top > 0) {
          const k = stack[--top]!;
          const r = (k / w) | 0;
          const q = k - r * w;
          sum += data[base + k]!;
          count++;
          if (q < c0) c0 = q;
          if (q > c1) c1 = q;
          if (r < r0) r0 = r;
          if (r > r1) r1 = r;
          if (q > 0 && labels[k - 1] === 0 && data[base + k - 1]! >= thr) (labels[k - 1] = 1), (stack[top++] = k - 1);
          if (q < w - 1 && labels[k + 1] === 0 && data[base + k + 1]! >= thr) (labels[k + 1] = 1), (stack[top++] = k + 1);
          if (r > 0 && labels[k - w] === 0 && data[base + k - w]! >= thr) (labels[k - w] = 1), (stack[top++] = k - w);
          if (r < h - 1 && labels[k + w] === 0 && data[base + k + w]! >= thr) (labels[k + w] = 1), (stack[top++] = k + w);
        }
        if (count < this.p.min_cells) continue;
        // Sub-cell edges: a border cell covered by fraction f moves the edge in by 1 - f; an
        // outside neighbour covered by g moves it out by g.
        const col = (q: number) => {
          if (q < 0 || q >= w) return 0;
          let m = 0;
          for (let r = r0; r <= r1; r++) m = Math.max(m, data[base + r * w + q]!);
          return m;
        };
        const row = (r: number) => {
          if (r < 0 || r >= h) return 0;
          let m = 0;
          for (let q = c0; q <= c1; q++) m = Math.max(m, data[base + r * w + q]!);
          return m;
        };
        const x1 = c0 + 1 - col(c0) - col(c0 - 1);
        const x2 = c1 + col(c1) + col(c1 + 1);
        const y1 = r0 + 1 - row(r0) - row(r0 - 1);
        const y2 = r1 + row(r1) + row(r1 + 1);
        this.push(x1 * strideX, y1 * strideY, x2 * strideX, y2 * strideY, sum / count, c);
      }
    }
  }

  private yolo(dims: number[], data: Float32Array, sx: number, sy: number): void {
    const rows = dims[1]!;
    const N = dims[2]!;
    const nc = rows - 4;
    const map = this.p.class_map;
    const thr = this.p.score_threshold;
    for (let j = 0; j < N; j++) {
      let best = -1;
      let score = -Infinity;
      for (let c = 0; c < nc; c++) {
        const s = data[(4 + c) * N + j]!;
        if (s > score) (score = s), (best = c);
      }
      if (!(score >= thr)) continue;
      const cls = map.length ? (map[best] ?? -1) : best;
      if (cls < 0) continue;
      const cx = data[j]!, cy = data[N + j]!, bw = data[2 * N + j]!, bh = data[3 * N + j]!;
      if (!Number.isFinite(cx + cy + bw + bh)) continue;
      this.push((cx - bw / 2) * sx, (cy - bh / 2) * sy, (cx + bw / 2) * sx, (cy + bh / 2) * sy, score, cls);
    }
  }
}
