// The synthetic vehicle's sensor rig, shared by the sensors (which render through it) and by
// fusion (which projects lidar into the image with it): the extrinsics a TF tree would give.

/** Camera optical centre height above the ground (m); it looks along +x with no pitch. */
export const CAMERA_HEIGHT = 1.5;
/** Lidar origin height above the ground (m). Points are published in base_link. */
export const LIDAR_HEIGHT = 1.8;

/** Pinhole intrinsics scaled to an image size: 65 degrees horizontal field of view. */
export function intrinsics(width: number, height: number): { fx: number; fy: number; cx: number; cy: number } {
  const f = (width / 2) / Math.tan((65 * Math.PI) / 360);
  return { fx: f, fy: f, cx: width / 2, cy: height / 2 };
}
