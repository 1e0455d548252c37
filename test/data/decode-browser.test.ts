// The browser decoder in Node, with createImageBitmap and OffscreenCanvas stubbed: what is checked
// is the order of things (header limits before any decode) and the working size and RGB it returns.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BadImageError } from '../../src/data/bad-file.js';
import { decodeImageBlob, rgbaToRgb } from '../../src/data/decode-browser.js';
import { oddFileBytes, photoLikeJpeg } from './make-images.js';

interface CanvasCall {
  width: number;
  height: number;
  drawn: unknown[];
  filledFirst: boolean;
}

function stubBrowser(bitmapSize: { width: number; height: number }): { canvases: CanvasCall[]; closed: () => boolean } {
  const canvases: CanvasCall[] = [];
  let closed = false;
  vi.stubGlobal(
    'createImageBitmap',
    vi.fn(async () => ({ ...bitmapSize, close: () => (closed = true) })),
  );
  vi.stubGlobal(
    'OffscreenCanvas',
    class {
      constructor(width: number, height: number) {
        const call: CanvasCall = { width, height, drawn: [], filledFirst: false };
        canvases.push(call);
        this.getContext = () => ({
          fillRect: () => (call.filledFirst = call.drawn.length === 0),
          drawImage: (...args: unknown[]) => call.drawn.push(args),
          getImageData: (_x: number, _y: number, w: number, h: number) => ({
            data: Uint8ClampedArray.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 ? 255 : i % 251)),
          }),
        });
      }
      getContext: () => unknown;
    },
  );
  return { canvases, closed: () => closed };
}

const blobOf = (bytes: Uint8Array): Blob => new Blob([Uint8Array.from(bytes)]);

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'decoded';
  } catch (error) {
    if (error instanceof BadImageError) return error.reason;
    throw error;
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('decodeImageBlob', () => {
  it('draws the oriented bitmap at the working size over black, and returns RGB', async () => {
    const { canvases, closed } = stubBrowser({ width: 750, height: 1000 });
    const image = await decodeImageBlob(blobOf(await photoLikeJpeg(1000, 750, 1)), 'a.jpg');
    expect([image.width, image.height]).toEqual([256, 341]);
    expect(canvases).toHaveLength(1);
    expect(canvases[0]).toMatchObject({ width: 256, height: 341, filledFirst: true });
    expect(canvases[0]!.drawn[0]).toEqual([expect.anything(), 0, 0, 256, 341]);
    expect(image.pixels.length).toBe(256 * 341 * 3);
    expect([...image.pixels.subarray(0, 6)]).toEqual([0, 1, 2, 4, 5, 6]);
    expect(closed()).toBe(true);
  });

  it('refuses absurd header dimensions before decoding anything', async () => {
    stubBrowser({ width: 60000, height: 60000 });
    expect(await reasonOf(decodeImageBlob(blobOf(await oddFileBytes('huge.jpg')), 'huge.jpg'))).toBe('too-large');
    expect(createImageBitmap).not.toHaveBeenCalled();
  });

  it('refuses empty files and non-images before decoding', async () => {
    stubBrowser({ width: 1, height: 1 });
    expect(await reasonOf(decodeImageBlob(blobOf(new Uint8Array(0)), 'empty.jpg'))).toBe('empty');
    expect(await reasonOf(decodeImageBlob(blobOf(await oddFileBytes('text.jpg')), 'text.jpg'))).toBe('not-an-image');
    expect(createImageBitmap).not.toHaveBeenCalled();
  });

  it('reports a decoder failure as undecodable', async () => {
    stubBrowser({ width: 1, height: 1 });
    vi.mocked(createImageBitmap).mockRejectedValueOnce(new DOMException('The source image could not be decoded.'));
    expect(await reasonOf(decodeImageBlob(blobOf(await photoLikeJpeg(8, 8, 1)), 'x.jpg'))).toBe('undecodable');
  });
});

describe('rgbaToRgb', () => {
  it('drops the alpha bytes', () => {
    expect([...rgbaToRgb(Uint8Array.of(1, 2, 3, 255, 4, 5, 6, 255))]).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
