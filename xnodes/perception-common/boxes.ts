// Box geometry shared by detection, fusion and evaluation.

/** IoU of boxes [x1, y1, x2, y2] stored at offsets a and b of two arrays. */
export function iou(A: ArrayLike<number>, a: number, B: ArrayLike<number>, b: number): number {
  const ix = Math.min(A[a + 2]!, B[b + 2]!) - Math.max(A[a]!, B[b]!);
  const iy = Math.min(A[a + 3]!, B[b + 3]!) - Math.max(A[a + 1]!, B[b + 1]!);
  if (ix <= 0 || iy <= 0) return 0;
  const inter = ix * iy;
  const ua = (A[a + 2]! - A[a]!) * (A[a + 3]! - A[a + 1]!) + (B[b + 2]! - B[b]!) * (B[b + 3]! - B[b + 1]!) - inter;
  return ua > 0 ? inter / ua : 0;
}

export const iou4 = (a: ArrayLike<number>, b: ArrayLike<number>): number => iou(a, 0, b, 0);
