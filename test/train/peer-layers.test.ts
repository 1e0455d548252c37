// A peer's layers beside ours (profile --peer-layers): each layer's forward, data gradient and
// weight gradient next to another framework's time for that layer alone, and the ratio.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/runtime/errors.js';
import type { LayerCost } from '../../src/train/profile-layers.js';
import { parsePeerLayers, peerLayerRows, type PeerLayers } from '../../src/train/peer-layers.js';

const cost = (layer: string, ms: [number, number, number]): LayerCost => ({
  layer, module: 'Conv2d', totalMs: ms[0] + ms[1] + ms[2], share: 0, gflops: null, savedBytes: 0,
  ms: { forward: ms[0], dataGradient: ms[1], parameterGradients: ms[2], update: 0 },
  dispatches: { forward: ms[0] > 0 ? 1 : 0, dataGradient: ms[1] > 0 ? 1 : 0, parameterGradients: ms[2] > 0 ? 1 : 0, update: 0 },
});

const peer: PeerLayers = {
  peer: 'PyTorch 2.11.0', device: 'NVIDIA H200 (cuda, fp32, TF32 off)', model: 'vgg16', batch: 32, size: 224,
  layers: [
    { layer: 'features.0', forwardMs: 1, dataMs: null, paramsMs: 2 },
    { layer: 'classifier.0', forwardMs: 0.5, dataMs: 0.25, paramsMs: 1 },
  ],
};

describe('peerLayerRows', () => {
  it("puts the peer's times beside ours with the ratio, '-' where either did none of that work, and sums what both did", () => {
    const ours = [cost('features.0', [3, 0, 5]), cost('features.2', [9, 9, 9]), cost('classifier.0', [1, 0.5, 0])];
    const { header, rows } = peerLayerRows(ours, peer);
    expect(header).toEqual(['layer', 'fwd: ours', 'peer', 'ours/peer', 'bwd data: ours', 'peer', 'ours/peer', 'bwd params: ours', 'peer', 'ours/peer']);
    expect(rows).toEqual([
      ['features.0', '3.00', '1.00', '3.00x', '-', '-', '-', '5.00', '2.00', '2.50x'],
      // Ours ran no weight gradient here (a frozen layer): nothing to set beside the peer's.
      ['classifier.0', '1.00', '0.50', '2.00x', '0.50', '0.25', '2.00x', '-', '1.00', '-'],
      // features.2, which the peer did not time, is in no sum.
      ['(these layers)', '4.00', '1.50', '2.67x', '0.50', '0.25', '2.00x', '5.00', '2.00', '2.50x'],
    ]);
  });

  it("refuses a peer whose layers the profile lacks: another model", () => {
    expect(() => peerLayerRows([cost('conv', [1, 1, 1])], peer)).toThrow(InputError);
    expect(() => peerLayerRows([cost('conv', [1, 1, 1])], peer)).toThrow(/the peer's layers features\.0, classifier\.0 are not in this profile: it timed vgg16/);
  });
});

describe('parsePeerLayers', () => {
  it('takes torch_steps.py --layers-out JSON, and names what is wrong with anything else', () => {
    expect(parsePeerLayers(JSON.parse(JSON.stringify(peer)), 'layers.json')).toEqual(peer);
    const wrong = (o: unknown) => () => parsePeerLayers(o, 'layers.json');
    expect(wrong([1, 2])).toThrow(/^layers\.json: no 'peer' text \(expected bench\/gpu\/torch_steps\.py --layers-out's JSON\)$/);
    expect(wrong({ ...peer, size: 0 })).toThrow(/no whole 'size'/);
    expect(wrong({ ...peer, layers: [] })).toThrow(/no 'layers'/);
    expect(wrong({ ...peer, layers: [{ layer: 'features.0', forwardMs: 1, dataMs: null }] })).toThrow(/a layer without a name and its times: \{"layer":"features\.0"/);
    expect(wrong({ ...peer, layers: [{ layer: 'features.0', forwardMs: -1, dataMs: null, paramsMs: 1 }] })).toThrow(InputError);
  });
});
