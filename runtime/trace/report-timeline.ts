// The timeline (Gantt) of a few frames as static SVG: one row per XPU (split into lanes where
// runs overlap), one bar per stage run coloured by stage; hovering a bar shows its frame,
// stage and times (SVG <title>). Drawn directly: a Gantt with lanes is awkward in vega-lite.
import { FONT, stageColours } from './plots.js';
import type { ReportRun, TimelineEvent, TimelineWindow } from './report-data.js';
import { EventKind } from './tracer.js';

export const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A round tick step giving about `target` ticks over `span`. */
export function niceStep(span: number, target = 8): number {
  if (!(span > 0)) return 1;
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

const fmtMs = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));

/** Assigns each event a lane within its XPU row so overlapping runs do not hide each other. */
function lanes(events: TimelineEvent[]): { lane: number[]; count: Map<number, number> } {
  const order = events.map((_, i) => i).sort((a, b) => events[a]!.xpu - events[b]!.xpu || events[a]!.start - events[b]!.start);
  const lane = new Array<number>(events.length).fill(0);
  const ends = new Map<number, number[]>();
  for (const i of order) {
    const e = events[i]!;
    const busy = ends.get(e.xpu) ?? [];
    let l = busy.findIndex((end) => end <= e.start + 1e-9);
    if (l < 0) l = busy.length;
    busy[l] = e.end;
    ends.set(e.xpu, busy);
    lane[i] = l;
  }
  return { lane, count: new Map([...ends].map(([x, b]) => [x, b.length])) };
}

export function timelineSvg(run: ReportRun, window: TimelineWindow = run.timeline, width = 1000): string {
  const { events, spanMs, firstFrame, lastFrame } = window;
  if (events.length === 0) return '<p class="empty">No stage runs were recorded.</p>';
  const colours = stageColours(run.stageNames.length);
  const { lane, count } = lanes(events);
  const rows = [...count.keys()].sort((a, b) => a - b);
  const labelW = 150;
  const plotW = width - labelW - 20;
  const laneH = 20;
  const rowGap = 10;
  const top = 34;
  const rowY = new Map<number, number>();
  let y = top;
  for (const x of rows) {
    rowY.set(x, y);
    y += count.get(x)! * laneH + rowGap;
  }
  const axisY = y;
  const used = [...new Set(events.map((e) => e.stage))].sort((a, b) => a - b);
  // Legend entries flow left to right and wrap (text width estimated at 7 px a character).
  const legend: Array<{ stage: number; x: number; row: number }> = [];
  let lx = labelW;
  let row = 0;
  for (const s of used) {
    const w = 30 + (run.stageNames[s] ?? `stage ${s}`).length * 7;
    if (lx + w > width && lx > labelW) {
      lx = labelW;
      row++;
    }
    legend.push({ stage: s, x: lx, row });
    lx += w;
  }
  const legendY = axisY + 46;
  const height = legendY + row * 18 + 12;
  const sx = (t: number) => labelW + (spanMs > 0 ? (t / spanMs) * plotW : 0);
  const out: string[] = [];
  out.push(`<svg role="img" class="timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family='${FONT}' font-size="11">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(
    `<text x="0" y="14" font-size="13">${
      firstFrame === lastFrame
        ? `Frame ${firstFrame} alone, zoomed: ${fmtMs(spanMs)} ms from its source run to its last stage run`
        : `Frames ${firstFrame}–${lastFrame} in steady state: ${fmtMs(spanMs)} ms, one row per XPU, runs of other frames in flight included`
    }; ${window.flows?.length ? 'arrows: which run consumed which message; ' : ''}hover a bar for its frame and times</text>`,
  );
  // Grid and time axis.
  const step = niceStep(spanMs);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  for (let k = 0; k * step <= spanMs + 1e-9; k++) {
    const x = sx(k * step).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${top - 4}" y2="${axisY}" stroke="#eee"/>`);
    out.push(`<text x="${x}" y="${axisY + 14}" text-anchor="middle" fill="#444">${(k * step).toFixed(decimals)}</text>`);
  }
  out.push(`<line x1="${labelW}" x2="${labelW + plotW}" y1="${axisY}" y2="${axisY}" stroke="#888"/>`);
  out.push(`<text x="${labelW + plotW / 2}" y="${axisY + 30}" text-anchor="middle" font-size="12">time since the window start (ms)</text>`);
  // Row labels and bands.
  for (const x of rows) {
    const ry = rowY.get(x)!;
    const h = count.get(x)! * laneH;
    const info = run.xpus[x];
    const label = info ? `${info.id}${info.real ? '' : ' (simulated)'}` : `xpu ${x}`;
    out.push(`<rect x="${labelW}" y="${ry - 2}" width="${plotW}" height="${h + 4}" fill="#f7f7f7"/>`);
    out.push(`<text x="${labelW - 8}" y="${ry + h / 2 + 4}" text-anchor="end" font-size="12">${escapeXml(label)}</text>`);
  }
  // Bars.
  const pos: Array<{ x0: number; x1: number; y: number }> = [];
  events.forEach((e, i) => {
    const x0 = sx(e.start);
    const w = Math.max(1, sx(e.end) - x0);
    const by = rowY.get(e.xpu)! + lane[i]! * laneH;
    pos[i] = { x0, x1: x0 + w, y: by + (laneH - 3) / 2 };
    const stage = run.stageNames[e.stage] ?? `stage ${e.stage}`;
    const what = e.kind === EventKind.Run ? '' : ` (${EventKind[e.kind]?.toLowerCase() ?? 'event'})`;
    const tip = `${stage}${what}, frame ${e.seq}: ${fmtMs(e.end - e.start)} ms (${fmtMs(e.start)}–${fmtMs(e.end)} ms)${e.bytes ? `, ${e.bytes} bytes` : ''}`;
    const stroke = e.kind === EventKind.Preempt ? ' stroke="#d62728" stroke-width="2"' : e.kind === EventKind.Transfer ? ' stroke="#333" stroke-dasharray="2 2"' : '';
    out.push(
      `<g class="run"><title>${escapeXml(tip)}</title><rect x="${x0.toFixed(2)}" y="${by}" width="${w.toFixed(2)}" height="${laneH - 3}" rx="2" fill="${colours[e.stage] ?? '#999'}"${stroke}/>` +
        (w > 22 ? `<text x="${(x0 + w / 2).toFixed(2)}" y="${by + laneH - 7}" text-anchor="middle" fill="white" font-size="10">${e.seq}</text>` : '') +
        '</g>',
    );
  });
  // Message flow: each producer run to the run that consumed its message.
  if (window.flows?.length) {
    for (const f of window.flows) {
      const a = pos[f.from];
      const b = pos[f.to];
      if (!a || !b) continue;
      const from = events[f.from]!;
      const to = events[f.to]!;
      const tip = `frame ${to.seq}: ${run.stageNames[from.stage] ?? from.stage} (frame ${from.seq}) → ${run.stageNames[to.stage] ?? to.stage}`;
      // The arrowhead drawn as a small triangle at the consumer's end (no marker: no url() references).
      const ang = Math.atan2(b.y - a.y, b.x0 - a.x1);
      const head = [0, 2.6, -2.6].map((o, k) => {
        const r = k === 0 ? 0 : 5;
        return `${(b.x0 - r * Math.cos(ang) - o * Math.sin(ang)).toFixed(1)},${(b.y - r * Math.sin(ang) + o * Math.cos(ang)).toFixed(1)}`;
      });
      out.push(
        `<g class="flow" opacity="0.6"><title>${escapeXml(tip)}</title><line x1="${a.x1.toFixed(2)}" y1="${a.y.toFixed(1)}" x2="${b.x0.toFixed(2)}" y2="${b.y.toFixed(1)}" stroke="#333" stroke-width="1"/>` +
          `<polygon points="${head.join(' ')}" fill="#333"/></g>`,
      );
    }
  }
  // Legend: stage colours.
  for (const { stage: s, x, row: r } of legend) {
    const name = run.stageNames[s] ?? `stage ${s}`;
    const y = legendY + r * 18;
    out.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" rx="2" fill="${colours[s] ?? '#999'}"/>`);
    out.push(`<text x="${x + 16}" y="${y}" font-size="12">${escapeXml(name)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}
