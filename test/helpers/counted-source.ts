import type { BatchSource } from '../../src/train/trainer.js';

/**
 * A batch source that counts its passes, each of which decodes, uploads and transforms every
 * image: the trainer's feature caches are tested by the passes they save. Everything else it
 * forwards (the order and bad files too, which the training cache reads).
 */
export function countedSource(source: BatchSource): BatchSource & { passes: number } {
  const counted = {
    passes: 0,
    samples: source.samples,
    batchSize: source.batchSize,
    dropLast: source.dropLast,
    badFiles: source.badFiles,
    order: source.order?.bind(source),
    epoch(epoch: number) {
      counted.passes++;
      return source.epoch(epoch);
    },
  };
  return counted;
}
