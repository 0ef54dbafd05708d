// Photos are shrunk on the phone before they are queued: at most 1600 px on the long side,
// JPEG at quality 0.8. A phone's 12 MP photo becomes a few hundred KB to send from a stairwell.
export const MAX_SIDE = 1600;

/**
 * @param {Blob} file
 * @param {{ maxSide?: number, quality?: number }} [options]
 * @returns {Promise<Blob>}
 */
export async function shrink(file, { maxSide = MAX_SIDE, quality = 0.8 } = {}) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const width = Math.round(bitmap.width * scale);
  const height = Math.round(bitmap.height * scale);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  if (!context) throw new Error("canvas");
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close?.();
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("encode"))), "image/jpeg", quality),
  );
}
