// An occupancy map accumulated from lidar on the device: every frame's points are counted
// into a voxel grid (nx x ny x nz u32, default 1024 x 1024 x 8 = 32 MiB) that lives in device
// memory for the whole run. A stateful device XNODE with a large state: the grid is a device
// buffer it owns (checkpointed with the device), and its frame counters are host state.
import { acquireDevice, DeviceBuffer, streamPriority, type DeviceLease } from '../../runtime/gpu/index.js';
import { defineXNode, hostState, type StatefulInstance } from '../../runtime/xnode/index.js';
import type { Header, Points } from '../perception-common/messages.js';
import { crc32 } from 'node:zlib';

export interface MapParams {
  nx: number;
  ny: number;
  nz: number;
  voxel: number;
  ox: number;
  oy: number;
  oz: number;
}

/** `xauto/MapInfo`: how much the map has taken in so far. */
export interface MapInfo {
  header: Header;
  frames: number;
  points: number;
}

/** Voxel index of a point, or -1 outside the grid (the rule of the device's voxel_scatter). */
export function voxelOf(x: number, y: number, z: number, p: MapParams): number {
  const f = Math.fround;
  const vs = f(p.voxel);
  const fx = Math.floor(f(f(x - f(p.ox)) / vs)), fy = Math.floor(f(f(y - f(p.oy)) / vs)), fz = Math.floor(f(f(z - f(p.oz)) / vs));
  if (!(fx >= 0 && fy >= 0 && fz >= 0 && fx < p.nx && fy < p.ny && fz < p.nz)) return -1;
  return (fz * p.ny + fy) * p.nx + fx;
}

/** The run's map in the report: occupied cells and a checksum (one download, at the end). */
function summarize(ctx: { summary(section: string, data: Record<string, unknown>): void }, grid: Uint32Array): void {
  let occupied = 0;
  for (let i = 0; i < grid.length; i++) if (grid[i] !== 0) occupied++;
  ctx.summary('map', { cells: grid.length, occupied, crc32: crc32(new Uint8Array(grid.buffer, grid.byteOffset, grid.byteLength)) });
}

const checkPoints = (m: Points) => m && m.points instanceof Float32Array && m.points.length % 4 === 0 && !!m.header;

export const occupancy = defineXNode({
  type: 'mapping/occupancy',
  description: 'Occupancy map: lidar points counted into a device-resident voxel grid over the whole run (size: nx*ny*nz*4 bytes).',
  inputs: { points: { type: 'xauto/Points', description: 'points in the map frame (e.g. obstacle points)' } },
  outputs: { map: { type: 'xauto/MapInfo' } },
  params: {
    nx: { type: 'int', default: 1024, min: 1, max: 16384 },
    ny: { type: 'int', default: 1024, min: 1, max: 16384 },
    nz: { type: 'int', default: 8, min: 1, max: 256 },
    voxel: { type: 'float', default: 0.2, min: 0.001, description: 'voxel edge (m)' },
    ox: { type: 'float', default: -102.4, description: 'grid origin x (m)' },
    oy: { type: 'float', default: -102.4 },
    oz: { type: 'float', default: -3 },
  },
  stateful: true,
  impls: [
    {
      name: 'device',
      xpu: '*',
      backend: 'device',
      create: (ctx): StatefulInstance => {
        const p = ctx.params as unknown as MapParams;
        const lease: DeviceLease = acquireDevice();
        const d = lease.device;
        const gridBytes = p.nx * p.ny * p.nz * 4;
        let grid = d.alloc(gridBytes);
        let cap = 0;
        let pts: DeviceBuffer | undefined;
        let xyz = new Float32Array(0);
        const counters = new Float64Array(2); // frames, points
        const stream = lease.stream(streamPriority(ctx.priority));
        return {
          async process(inputs) {
            const m = inputs.points as Points;
            if (!checkPoints(m)) {
              ctx.count('mapping.malformed_points');
              return null;
            }
            const n = m.points.length / 4;
            if (n > cap) {
              // Grows (rarely): the per-frame path reuses the point buffer.
              pts?.free();
              cap = Math.max(n, cap * 2, 1024);
              pts = d.alloc(cap * 12);
              xyz = new Float32Array(cap * 3);
            }
            for (let i = 0; i < n; i++) {
              xyz[i * 3] = m.points[i * 4]!;
              xyz[i * 3 + 1] = m.points[i * 4 + 1]!;
              xyz[i * 3 + 2] = m.points[i * 4 + 2]!;
            }
            if (n > 0) {
              pts!.write(xyz.subarray(0, n * 3));
              const { nx, ny, nz, voxel: vsize, ox, oy, oz } = p;
              await stream.launch('voxel_scatter', { n, pts: pts!, nx, ny, nz, vsize, ox, oy, oz, counts: grid }).done;
            }
            counters[0]! += 1;
            counters[1]! += n;
            return { map: { header: m.header, frames: counters[0]!, points: counters[1]! } satisfies MapInfo };
          },
          state: hostState({
            arrays: { counters },
            device: {
              get: () => ({ grid: grid.handle }),
              // After a device restore the grid is a restored buffer: take it over.
              set: (h) => {
                const bytes = d.native.bufferBytes(h.grid!);
                if (bytes !== gridBytes) throw new Error(`mapping/occupancy: the restored grid has ${bytes} bytes, these parameters need ${gridBytes}`);
                if (h.grid !== grid.handle) grid.free();
                grid = new DeviceBuffer(d, h.grid!, bytes);
              },
            },
          }),
          /** The map as counts per voxel (for tests and tools; a full download). */
          read: () => grid.read(new Uint32Array(gridBytes / 4)),
          finish: () => summarize(ctx, grid.read(new Uint32Array(gridBytes / 4))),
          close() {
            if (!d.isClosed) {
              grid.free();
              pts?.free();
            }
            lease.release();
          },
        } as StatefulInstance & { read(): Uint32Array };
      },
    },
    {
      name: 'js',
      xpu: 'cpu',
      backend: 'main',
      create: (ctx): StatefulInstance => {
        const p = ctx.params as unknown as MapParams;
        const grid = new Uint32Array(p.nx * p.ny * p.nz);
        const counters = new Float64Array(2);
        return {
          process(inputs) {
            const m = inputs.points as Points;
            if (!checkPoints(m)) {
              ctx.count('mapping.malformed_points');
              return null;
            }
            const n = m.points.length / 4;
            for (let i = 0; i < n; i++) {
              const v = voxelOf(m.points[i * 4]!, m.points[i * 4 + 1]!, m.points[i * 4 + 2]!, p);
              if (v >= 0) grid[v]!++;
            }
            counters[0]! += 1;
            counters[1]! += n;
            return { map: { header: m.header, frames: counters[0]!, points: counters[1]! } satisfies MapInfo };
          },
          state: hostState({ arrays: { grid, counters } }),
          read: () => grid.slice(),
          finish: () => summarize(ctx, grid),
        } as StatefulInstance & { read(): Uint32Array };
      },
    },
  ],
});

export const xnodes = [occupancy];
