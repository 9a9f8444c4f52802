// Camera image preprocessing: resize + normalise into an NCHW float32 tensor for the detector.
import { defineXNode } from '../../runtime/xnode/index.js';
import { createPreprocessDevice } from './preprocess-device.js';
import { createPreprocess } from './preprocess-stage.js';

export const preprocess = defineXNode({
  type: 'camera/preprocess',
  description: 'Resize (bilinear) + normalise ((v/255 - mean)/std) an rgb8/bgr8 image into a [1,3,H,W] tensor.',
  inputs: { image: { type: 'sensor_msgs/msg/Image' } },
  outputs: { tensor: { type: 'xauto/Tensor' } },
  params: {
    width: { type: 'int', default: 320, min: 8, max: 4096, description: 'tensor width (the detector input)' },
    height: { type: 'int', default: 240, min: 8, max: 4096 },
    mean: { type: 'float[]', default: [0.485, 0.456, 0.406] },
    std: { type: 'float[]', default: [0.229, 0.224, 0.225] },
    normalization: {
      type: 'string',
      default: 'meanstd',
      choices: ['meanstd', 'unit'],
      description: "'meanstd': (v/255 - mean)/std; 'unit': v/255 (YOLOv8 exports)",
    },
  },
  impls: [
    { name: 'js', xpu: 'cpu', backend: 'main', tolerance: 1e-3, create: (ctx) => createPreprocess(ctx) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', tolerance: 1e-3, module: new URL('./preprocess.worker.js', import.meta.url).href },
    { name: 'onnx', xpu: '*', backend: 'onnx', version: '2', tolerance: 1e-3, module: new URL('./preprocess.ort.js', import.meta.url).href },
    { name: 'device', xpu: '*', backend: 'device', tolerance: 1e-3, create: (ctx) => createPreprocessDevice(ctx) },
  ],
});

export const xnodes = [preprocess];
