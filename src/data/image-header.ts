/**
 * Image dimensions read from the header bytes alone, for decoders that cannot be asked for them
 * without decoding (the browser's createImageBitmap): absurd dimensions are refused before any
 * pixel is decoded. Dimensions are as stored, before EXIF orientation (the pixel count is the same).
 */
import type { ImageFormat } from './sniff.js';

export interface StoredSize {
  width: number;
  height: number;
}

/** The stored size, or undefined when the header is cut short or the format is not parsed here. */
export function readStoredSize(bytes: Uint8Array, format: ImageFormat): StoredSize | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const has = (end: number): boolean => end <= bytes.length;
  switch (format) {
    case 'jpeg':
      return jpegFrameSize(bytes, view);
    case 'png': // IHDR is the first chunk
      return has(24) ? { width: view.getUint32(16), height: view.getUint32(20) } : undefined;
    case 'gif': // the logical screen descriptor
      return has(10) ? { width: view.getUint16(6, true), height: view.getUint16(8, true) } : undefined;
    case 'webp':
      return webpSize(bytes, view);
    case 'bmp': {
      if (!has(26)) return undefined;
      // The old 12-byte OS/2 header stores 16-bit sizes; the others 32-bit, height negative when top-down.
      if (view.getUint32(14, true) === 12) return { width: view.getUint16(18, true), height: view.getUint16(20, true) };
      return { width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
    }
    default:
      return undefined;
  }
}

// Start-of-frame markers carry the size: C0-CF except C4 (DHT), C8 (JPG) and CC (DAC).
const isStartOfFrame = (marker: number): boolean =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

function jpegFrameSize(bytes: Uint8Array, view: DataView): StoredSize | undefined {
  let at = 2; // after SOI
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2; // markers without a length
      continue;
    }
    if (isStartOfFrame(marker)) {
      return at + 9 <= bytes.length ? { height: view.getUint16(at + 5), width: view.getUint16(at + 7) } : undefined;
    }
    at += 2 + view.getUint16(at + 2);
  }
  return undefined;
}

function webpSize(bytes: Uint8Array, view: DataView): StoredSize | undefined {
  if (bytes.length < 30) return undefined;
  const chunk = String.fromCharCode(...bytes.subarray(12, 16));
  const uint24 = (at: number): number => view.getUint16(at, true) | (bytes[at + 2]! << 16);
  switch (chunk) {
    case 'VP8 ': // lossy: 14-bit sizes after the frame tag and start code
      return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
    case 'VP8L': {
      // lossless: after the 0x2f signature, 14 bits width - 1, then 14 bits height - 1
      const bits = view.getUint32(21, true);
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    case 'VP8X': // extended: 24-bit canvas width - 1 and height - 1
      return { width: uint24(24) + 1, height: uint24(27) + 1 };
    default:
      return undefined;
  }
}
