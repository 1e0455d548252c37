/** The shapes a dataset takes once its files are known, shared by the loaders in Node and the browser. */

export interface Sample {
  /** A file path in Node, a URL in the browser. */
  path: string;
  /** Index into the class list. */
  label: number;
}

export interface DatasetSplit {
  /** Class names; a label is an index into this list. */
  classes: string[];
  train: Sample[];
  validation: Sample[];
}
