// 2D detection: the ONNX detector, then box decoding and NMS as their own stages.
import { defineXNode } from '../../runtime/xnode/index.js';
import { createDetectorJs } from './detector-js.js';
import { createDecodeDevice } from './decode-device.js';
import { createDecode, createNms } from './stages.js';

export const detector = defineXNode({
  type: 'detect/detector',
  description: 'Runs an ONNX detector on a [1,3,H,W] tensor: the generated synthetic-scene model, or `model` (e.g. YOLOv8).',
  inputs: { tensor: { type: 'xauto/Tensor' } },
  outputs: { head: { type: 'xauto/Tensor', description: 'raw model output: heatmap [1,C,h,w] or YOLOv8 head [1,4+C,N]' } },
  params: {
    model: { type: 'string', default: '', description: "ONNX file; '' = the generated synthetic-scene detector" },
  },
  impls: [
    { name: 'onnx', xpu: '*', backend: 'onnx', version: '2', tolerance: 1e-4, module: new URL('./detector.ort.js', import.meta.url).href },
    // The generated model only (model:=''): the same network in JS.
    { name: 'js', xpu: 'cpu', backend: 'main', tolerance: 1e-4, create: (ctx) => createDetectorJs(ctx) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', tolerance: 1e-4, module: new URL('./detector.worker.js', import.meta.url).href },
  ],
});

export const decode = defineXNode({
  type: 'detect/decode',
  description: 'Decodes a detector head (heatmap or YOLOv8) into image-pixel boxes with scores and classes.',
  inputs: {
    head: { type: 'xauto/Tensor' },
    camera_info: { type: 'sensor_msgs/msg/CameraInfo', latched: true, optional: true, description: 'image size the boxes are scaled to' },
  },
  outputs: { detections: { type: 'xauto/Detections2D' } },
  params: {
    threshold: { type: 'float', default: 0.5, min: 0, max: 1, description: 'heatmap: coverage a cell needs to belong to an object' },
    min_cells: { type: 'int', default: 2, min: 1, description: 'heatmap: smallest region kept (cells)' },
    score_threshold: { type: 'float', default: 0.25, min: 0, max: 1, description: 'YOLOv8: class score an anchor needs' },
    class_map: { type: 'int[]', default: [], description: 'YOLOv8: model class -> output class (-1 drops); [] keeps ids' },
    input_width: { type: 'int', default: 320, min: 1, description: 'width of the tensor the detector saw' },
    input_height: { type: 'int', default: 240, min: 1 },
  },
  impls: [
    { name: 'js', xpu: 'cpu', backend: 'main', create: (ctx) => createDecode(ctx) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', module: new URL('./decode.worker.js', import.meta.url).href },
    { name: 'native', xpu: 'cpu', backend: 'native', create: (ctx) => createDecode(ctx, true) },
    { name: 'device', xpu: '*', backend: 'device', create: (ctx) => createDecodeDevice(ctx) },
  ],
});

export const nms = defineXNode({
  type: 'detect/nms',
  description: 'Class-wise greedy non-maximum suppression.',
  inputs: { detections: { type: 'xauto/Detections2D' } },
  outputs: { detections: { type: 'xauto/Detections2D' } },
  params: {
    iou_threshold: { type: 'float', default: 0.5, min: 0, max: 1 },
    score_threshold: { type: 'float', default: 0.3, min: 0, max: 1 },
    max_detections: { type: 'int', default: 100, min: 1 },
  },
  impls: [
    { name: 'js', xpu: 'cpu', backend: 'main', create: (ctx) => createNms(ctx) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', module: new URL('./nms.worker.js', import.meta.url).href },
  ],
});

export const xnodes = [detector, decode, nms];
