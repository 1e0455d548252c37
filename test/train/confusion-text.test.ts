import { describe, expect, it } from 'vitest';
import { describeConfusion } from '../../src/train/confusion-text.js';

describe('describeConfusion: per class, then the matrix (eval, and the end of train)', () => {
  it('gives each class its images, right answers, accuracy and most frequent mistake, then the matrix', () => {
    expect(describeConfusion(['cat', 'dog'], [[490, 10], [15, 485]])).toEqual([
      'class  images  correct  accuracy  most often taken for',
      'cat       500      490     98.0%  dog (10)',
      'dog       500      485     97.0%  cat (15)',
      'confusion (a row per true class, a column per predicted class):',
      '       cat  dog',
      'cat    490   10',
      'dog     15  485',
    ]);
  });

  it('says so for a class without images or mistakes, and leaves out the matrix of many classes', () => {
    const classes = Array.from({ length: 11 }, (_, i) => `c${i}`);
    const counts = classes.map((_, i) => classes.map((__, j) => (i === j && i > 0 ? 3 : 0)));
    const lines = describeConfusion(classes, counts);
    expect(lines).toHaveLength(12);
    expect(lines[1]).toBe('c0          0        0         -  -');
    expect(lines[2]).toBe('c1          3        3    100.0%  -');
  });
});
