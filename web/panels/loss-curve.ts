// A live loss curve: one SVG polyline, rescaled as points arrive.
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 480;
const HEIGHT = 200;
const PAD = 36;

export class LossCurve {
  private readonly svg: SVGSVGElement;
  private readonly line: SVGPolylineElement;
  private readonly labels: SVGTextElement[];
  private losses: number[] = [];

  constructor(
    host: HTMLElement,
    private steps: number,
  ) {
    this.svg = document.createElementNS(SVG, 'svg');
    this.svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
    this.svg.setAttribute('role', 'img');
    this.svg.id = 'loss-curve';
    const axes = document.createElementNS(SVG, 'path');
    axes.setAttribute('d', `M${PAD},${PAD / 2} V${HEIGHT - PAD} H${WIDTH - PAD / 2}`);
    axes.setAttribute('class', 'axes');
    this.line = document.createElementNS(SVG, 'polyline');
    this.line.setAttribute('class', 'loss');
    this.labels = [0, 1, 2, 3].map(() => document.createElementNS(SVG, 'text'));
    this.svg.append(axes, this.line, ...this.labels);
    host.append(this.svg);
    this.draw();
  }

  reset(steps: number): void {
    this.steps = steps;
    this.losses = [];
    this.draw();
  }

  push(loss: number): void {
    this.losses.push(loss);
    this.draw();
  }

  private draw(): void {
    const top = Math.max(...this.losses, 1e-6);
    const x = (i: number) => PAD + ((WIDTH - 1.5 * PAD) * i) / Math.max(this.steps - 1, 1);
    const y = (v: number) => HEIGHT - PAD - ((HEIGHT - 1.5 * PAD) * v) / top;
    this.line.setAttribute('points', this.losses.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' '));
    const last = this.losses.at(-1);
    this.label(0, 4, PAD / 2 + 4, top.toFixed(2));
    this.label(1, 4, HEIGHT - PAD, '0');
    this.label(2, WIDTH - PAD / 2, HEIGHT - PAD / 3, `step ${this.steps}`, 'end');
    this.label(3, PAD + 8, HEIGHT - PAD / 3, last === undefined ? 'loss' : `loss ${last.toFixed(4)} after ${this.losses.length} steps`);
  }

  private label(index: number, x: number, y: number, text: string, anchor = 'start'): void {
    const t = this.labels[index]!;
    t.setAttribute('text-anchor', anchor);
    t.setAttribute('x', String(x));
    t.setAttribute('y', String(y));
    t.textContent = text;
  }
}
