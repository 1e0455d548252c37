/**
 * Small integers for objects, numbered on first sight: a WebGPU object (buffer, layout, pipeline)
 * has no identity that fits in a string key or a hash, and a WeakMap lets it be collected.
 */
export class ObjectIds {
  private readonly ids = new WeakMap<object, number>();
  private next = 1;

  of(object: object): number {
    let id = this.ids.get(object);
    if (id === undefined) this.ids.set(object, (id = this.next++));
    return id;
  }
}
