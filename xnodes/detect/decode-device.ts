// Decode on the device. Heatmaps: connected regions per class by label propagation
// (hm_init, hm_pass until a round changes nothing), one row per region at its first cell
// (hm_regions), compacted in cell order, which is the order the JS decoder finds them in.
// YOLOv8 heads: one item per anchor (yolo_decode), compacted. Every kernel instance is
// idempotent. The head is uploaded and the detections downloaded (NMS runs on the host).
import { StageDevice } from '../../runtime/gpu/stage.js';
import type { ImplContext, StageInstance, StageResult } from '../../runtime/xnode/types.js';
import { dropper } from '../perception-common/check.js';
import type { Detections2D } from '../perception-common/messages.js';
import { decodeInput, type DecodeParams } from './decode-kernel.js';

const ROW = 6; // x1, y1, x2, y2, score, class

export function createDecodeDevice(ctx: ImplContext): StageInstance {
  const p = ctx.params as unknown as DecodeParams;
  const drop = dropper(ctx);
  const dev = new StageDevice(ctx.name, ctx.priority);
  const classMap = Int32Array.from(p.class_map);
  let passes = 0;
  let heatmaps = 0;
  return {
    async process(inputs): Promise<StageResult> {
      const t = decodeInput(inputs, p);
      if (typeof t === 'string') return drop('on head', t);
      const sx = t.imageWidth / p.input_width, sy = t.imageHeight / p.input_height;
      const head = dev.upload('head', t.data);
      let items: number;
      const rows = (n: number) => dev.buf('rows', n * ROW * 4);
      if (t.dims.length === 4) {
        const [, C, h, w] = t.dims as [number, number, number, number];
        items = C * h * w;
        heatmaps++;
        const la = dev.buf('lab.a', items * 4), lb = dev.buf('lab.b', items * 4);
        dev.launch('hm_init', { total: items, thr: p.threshold, heat: head, lab: la });
        for (let round = 0; round < items; round++) {
          dev.launch('hm_pass', { C, h, w, thr: p.threshold, heat: head, lin: la, lout: lb });
          dev.launch('hm_pass', { C, h, w, thr: p.threshold, heat: head, lin: lb, lout: la });
          passes += 2;
          if ((await dev.differences(items, la, lb)) === 0) break;
        }
        const strideX = (p.input_width / w) * sx, strideY = (p.input_height / h) * sy;
        dev.launch('hm_regions', { C, h, w, min_cells: p.min_cells, stride_x: strideX, stride_y: strideY, heat: head, lab: la, rows: rows(items), keep: dev.buf('keep', items * 4) });
      } else {
        const [, R, N] = t.dims as [number, number, number];
        items = N;
        const map = dev.upload('map', classMap);
        dev.launch('yolo_decode', { N, rows: R, nmap: classMap.length, thr: p.score_threshold, sx, sy, head, map, out: rows(N), keep: dev.buf('keep', N * 4) });
      }
      const keep = dev.buf('keep', items * 4), pos = dev.buf('pos', items * 4), packed = dev.buf('packed', items * ROW * 4);
      const total = dev.scan(items, keep, pos);
      dev.launch('compact_f32', { n: items, w: ROW, keep, pos, src: rows(items), dst: packed });
      await dev.flush();
      const n = dev.readCount(total);
      const r = dev.download(packed, new Float32Array(n * ROW));
      const boxes = new Float32Array(n * 4), scores = new Float32Array(n), classes = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < 4; j++) boxes[i * 4 + j] = r[i * ROW + j]!;
        scores[i] = r[i * ROW + 4]!;
        classes[i] = r[i * ROW + 5]!;
      }
      const detections: Detections2D = { header: t.header, count: n, boxes, scores, classes };
      return { detections };
    },
    finish() {
      ctx.summary('device', { [ctx.name]: { ...dev.summary(), label_passes_per_heatmap: heatmaps ? Math.round((passes / heatmaps) * 10) / 10 : 0 } });
    },
    close() {
      dev.close();
    },
  };
}
