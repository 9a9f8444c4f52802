// Synthetic sensors: a seeded driving scene seen by a pinhole camera and a spinning lidar, with
// per-frame ground truth. Stamps are ROS time: the wall clock at the start plus scene time
// (seq / rate); with use_sim_time, scene time alone, like a simulator's /clock.
import { defineXNode } from '../../runtime/xnode/index.js';
import type { ParamSpec } from '../../runtime/xnode/types.js';
import { createCamera } from './camera-source.js';
import { createLidar } from './lidar-source.js';

const sceneParams: Record<string, ParamSpec> = {
  objects: { type: 'int', default: 10, min: 0, max: 200, description: 'moving objects in the scene (cars, pedestrians, cyclists)' },
  seed: { type: 'int', default: 7, min: 0, description: 'scene seed: same seed, same scene' },
  ego_speed: { type: 'float', default: 5, min: 0, max: 40, description: 'ego vehicle speed (m/s)' },
  use_sim_time: { type: 'bool', default: false, description: 'stamp headers with scene time from 0 (ROS sim time) instead of wall-clock ROS time' },
};

export const camera = defineXNode({
  type: 'sensors/camera',
  description: 'Synthetic pinhole camera: sensor_msgs/Image (rgb8) + CameraInfo, and the frame\'s ground truth.',
  outputs: {
    image: { type: 'sensor_msgs/msg/Image' },
    camera_info: { type: 'sensor_msgs/msg/CameraInfo' },
    ground_truth: { type: 'xauto/GroundTruth', description: 'objects with 3D boxes, visible 2D boxes and visibility' },
  },
  params: {
    rate: { type: 'float', default: 30, min: 0, description: 'frames per second' },
    width: { type: 'int', default: 640, min: 32, max: 8192 },
    height: { type: 'int', default: 480, min: 32, max: 8192 },
    frame_id: { type: 'string', default: 'camera' },
    ...sceneParams,
  },
  stateful: true,
  impls: [
    { name: 'js', xpu: 'cpu', backend: 'main', version: '2', create: (ctx) => createCamera(ctx) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', version: '2', module: new URL('./camera.worker.js', import.meta.url).href },
    // The same renderer in C++, on native threads: the same image byte for byte.
    { name: 'native', xpu: 'cpu', backend: 'native', create: (ctx) => createCamera(ctx, true) },
  ],
});

export const lidar = defineXNode({
  type: 'sensors/lidar',
  description: 'Synthetic spinning lidar: sensor_msgs/PointCloud2 (x, y, z, intensity, ring) in base_link.',
  outputs: { points: { type: 'sensor_msgs/msg/PointCloud2' } },
  params: {
    rate: { type: 'float', default: 10, min: 0, description: 'turns per second' },
    rings: { type: 'int', default: 32, min: 1, max: 256 },
    steps: { type: 'int', default: 1100, min: 8, max: 10000, description: 'azimuth samples per turn' },
    noise: { type: 'float', default: 0.02, min: 0, description: 'range noise, one sigma (m)' },
    dropout: { type: 'float', default: 0.02, min: 0, max: 1, description: 'fraction of returns lost' },
    frame_id: { type: 'string', default: 'base_link' },
    ...sceneParams,
  },
  stateful: true,
  impls: [
    { name: 'js', xpu: 'cpu', backend: 'main', version: '2', create: (ctx) => createLidar(ctx) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', version: '2', module: new URL('./lidar.worker.js', import.meta.url).href },
  ],
});

export const xnodes = [camera, lidar];
