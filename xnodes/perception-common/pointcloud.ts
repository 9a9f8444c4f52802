// sensor_msgs/msg/PointCloud2 as the synthetic lidar writes it (x, y, z, intensity float32 +
// ring uint16, as ROS lidar drivers do) and a reader that accepts any cloud with float32 x, y, z
// (intensity optional), in any field order or point step.
import type { Header, PointCloud2, PointField } from './messages.js';

export const PF_UINT16 = 4;
export const PF_FLOAT32 = 7;
export const LIDAR_POINT_STEP = 20;

export const LIDAR_FIELDS: PointField[] = [
  { name: 'x', offset: 0, datatype: PF_FLOAT32, count: 1 },
  { name: 'y', offset: 4, datatype: PF_FLOAT32, count: 1 },
  { name: 'z', offset: 8, datatype: PF_FLOAT32, count: 1 },
  { name: 'intensity', offset: 12, datatype: PF_FLOAT32, count: 1 },
  { name: 'ring', offset: 16, datatype: PF_UINT16, count: 1 },
];

/** Why a cloud cannot be read (a user-facing message naming the field), or undefined. */
export function checkCloud(c: PointCloud2): string | undefined {
  if (!c || typeof c !== 'object' || !(c.data instanceof Uint8Array) || !Array.isArray(c.fields)) {
    return 'expected a sensor_msgs/msg/PointCloud2 with fields[] and data (uint8[])';
  }
  if (c.is_bigendian) return 'is_bigendian: big-endian clouds are not supported';
  for (const n of ['x', 'y', 'z']) {
    const f = c.fields.find((f) => f.name === n);
    if (!f) return `fields: no '${n}' field`;
    if (f.datatype !== PF_FLOAT32) return `fields.${n}: datatype ${f.datatype}, expected FLOAT32 (7)`;
    if (f.offset + 4 > c.point_step) return `fields.${n}: offset ${f.offset} beyond point_step ${c.point_step}`;
  }
  const n = c.width * c.height;
  if (!Number.isInteger(n) || n < 0) return `width*height: ${c.width}*${c.height} is not a point count`;
  if (c.point_step <= 0 || c.data.byteLength < n * c.point_step) {
    return `data: ${c.data.byteLength} bytes, expected width*height*point_step = ${n * c.point_step}`;
  }
  return undefined;
}

/**
 * Reads a checked cloud into [x, y, z, intensity] quadruples, leaving out points with a
 * non-finite coordinate (a dense cloud never has them; drivers mark no-returns with NaN).
 * Returns the points and how many were left out.
 */
export function readCloud(c: PointCloud2): { points: Float32Array; invalid: number } {
  const n = c.width * c.height;
  const off = (name: string) => c.fields.find((f) => f.name === name);
  const ox = off('x')!.offset;
  const oy = off('y')!.offset;
  const oz = off('z')!.offset;
  const fi = off('intensity');
  const oi = fi && fi.datatype === PF_FLOAT32 ? fi.offset : -1;
  const out = new Float32Array(n * 4);
  const step = c.point_step;
  let m = 0;
  if (step % 4 === 0 && c.data.byteOffset % 4 === 0 && ox % 4 === 0 && oy % 4 === 0 && oz % 4 === 0 && oi % 4 <= 0) {
    // Aligned: read through a float view of the same memory (no copy).
    const f = new Float32Array(c.data.buffer, c.data.byteOffset, (n * step) >> 2);
    const s = step >> 2;
    for (let i = 0, b = 0; i < n; i++, b += s) {
      const x = f[b + (ox >> 2)]!;
      const y = f[b + (oy >> 2)]!;
      const z = f[b + (oz >> 2)]!;
      if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) continue;
      out[m++] = x;
      out[m++] = y;
      out[m++] = z;
      out[m++] = oi >= 0 ? f[b + (oi >> 2)]! : 0;
    }
  } else {
    const dv = new DataView(c.data.buffer, c.data.byteOffset, c.data.byteLength);
    for (let i = 0, b = 0; i < n; i++, b += step) {
      const x = dv.getFloat32(b + ox, true);
      const y = dv.getFloat32(b + oy, true);
      const z = dv.getFloat32(b + oz, true);
      if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) continue;
      out[m++] = x;
      out[m++] = y;
      out[m++] = z;
      out[m++] = oi >= 0 ? dv.getFloat32(b + oi, true) : 0;
    }
  }
  return { points: m === out.length ? out : out.slice(0, m), invalid: n - m / 4 };
}

/** Writes lidar returns (x, y, z, intensity, ring) into a PointCloud2 owning `data`. */
export function makeCloud(header: Header, xyzi: Float32Array, rings: Uint16Array, count: number): PointCloud2 {
  const data = new Uint8Array(count * LIDAR_POINT_STEP);
  const f = new Float32Array(data.buffer);
  const u = new Uint16Array(data.buffer);
  for (let i = 0; i < count; i++) {
    const b = i * 5;
    f[b] = xyzi[i * 4]!;
    f[b + 1] = xyzi[i * 4 + 1]!;
    f[b + 2] = xyzi[i * 4 + 2]!;
    f[b + 3] = xyzi[i * 4 + 3]!;
    u[b * 2 + 8] = rings[i]!;
  }
  return {
    header,
    height: 1,
    width: count,
    fields: LIDAR_FIELDS.map((f) => ({ ...f })),
    is_bigendian: false,
    point_step: LIDAR_POINT_STEP,
    row_step: count * LIDAR_POINT_STEP,
    data,
    is_dense: true,
  };
}
