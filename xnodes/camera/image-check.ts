// What the preprocess stage accepts: sensor_msgs/Image in rgb8 or bgr8, rows of `step` bytes.
import type { Image } from '../perception-common/messages.js';

export const SUPPORTED_ENCODINGS = ['rgb8', 'bgr8'];

/** Why an image cannot be preprocessed (naming the field), or undefined. */
export function checkImage(img: Image): string | undefined {
  if (!img || typeof img !== 'object' || !(img.data instanceof Uint8Array)) return 'expected a sensor_msgs/msg/Image with data (uint8[])';
  if (!SUPPORTED_ENCODINGS.includes(img.encoding)) return `encoding '${img.encoding}': expected one of ${SUPPORTED_ENCODINGS.join(', ')}`;
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) {
    return `width x height ${img.width} x ${img.height}: expected positive integers`;
  }
  if (!Number.isInteger(img.step) || img.step < img.width * 3) return `step ${img.step}: expected >= width*3 = ${img.width * 3}`;
  if (img.data.byteLength < img.step * img.height) return `data: ${img.data.byteLength} bytes, expected step*height = ${img.step * img.height}`;
  return undefined;
}
