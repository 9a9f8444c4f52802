// The synthetic-scene detector, from hand-designed weights (nothing is trained or downloaded).
// The scene paints cars red, pedestrians green and cyclists blue over a grey road, white
// markings and a pale sky; so a per-class colour-contrast filter (1x1 conv), a soft threshold
// (Clip) give, per class and pixel, how surely the pixel shows that class; a morphological
// opening (min then max pooling) cleans it: a heatmap the decode stage turns into boxes.
//
// Input  `images`  [1, 3, 240, 320] float32, (rgb/255 - mean) / std (ImageNet mean/std, as the
//                  preprocess stage's defaults produce).
// Output `heatmap` [1, 3, 240, 320] float32 in [0, 1], channels car, pedestrian, cyclist.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DType, GraphBuilder } from './onnx-builder.mjs';

export const INPUT = { width: 320, height: 240 };
export const MEAN = [0.485, 0.456, 0.406];
export const STD = [0.229, 0.224, 0.225];
export const STRIDE = 1;
/** Colour contrast (0..255 units) below which a pixel is background, and above which it is fully the class. */
const LOW = 35;
const HIGH = 65;
/** Per class: weights on raw R, G, B (the class colour minus the mean of the other two). */
const CONTRAST = [
  [1, -0.5, -0.5], // car: red
  [-0.5, 1, -0.5], // pedestrian: green
  [-0.5, -0.5, 1], // cyclist: blue
];

/** The 1x1 convolution: weights [class][channel] (row-major, 9) and biases (3). */
export function detectorWeights() {
  // raw_c = 255 * (x_c * std_c + mean_c); contrast = sum_c a_c raw_c; mask = (contrast - LOW) / (HIGH - LOW)
  const w = [];
  const b = [];
  for (const a of CONTRAST) {
    let bias = -LOW;
    for (let c = 0; c < 3; c++) {
      w.push((a[c] * 255 * STD[c]) / (HIGH - LOW));
      bias += a[c] * 255 * MEAN[c];
    }
    b.push(bias / (HIGH - LOW));
  }
  return { w, b };
}

export function detectorBytes() {
  const g = new GraphBuilder('xauto_synthetic_detector');
  const { width: W, height: H } = INPUT;
  g.input('images', DType.float, [1, 3, H, W]);
  const { w, b } = detectorWeights();
  g.floats('contrast_w', [3, 3, 1, 1], w);
  g.floats('contrast_b', [3], b);
  g.floats('zero', [], [0]);
  g.floats('one', [], [1]);
  const contrast = g.node('Conv', ['images', 'contrast_w', 'contrast_b'], { kernel_shape: [1, 1] });
  const mask = g.node('Clip', [contrast, 'zero', 'one']);
  // Morphological opening (2x2 erosion, then 2x2 dilation): removes specks and one-pixel
  // bridges, keeps the dark rims that separate touching objects.
  const neg = g.node('Neg', [mask]);
  const erodedNeg = g.node('MaxPool', [neg], { kernel_shape: [2, 2], pads: [0, 0, 1, 1] });
  const eroded = g.node('Neg', [erodedNeg]);
  g.node('MaxPool', [eroded], { kernel_shape: [2, 2], pads: [1, 1, 0, 0] }, ['heatmap']);
  g.output('heatmap', DType.float, [1, 3, H / STRIDE, W / STRIDE]);
  return g.toBytes('xauto synthetic-scene detector: per-class heatmap');
}

export default async function generate(outDir) {
  writeFileSync(join(outDir, 'detector.onnx'), detectorBytes());
}
