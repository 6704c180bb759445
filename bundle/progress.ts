/**
 * Progress of long byte streams: on a terminal, one line redrawn at most ten times a second (bytes done, total,
 * rate); elsewhere a pino line every few seconds and one at the end, so CI logs show a load is alive.
 */
import type { Logger } from '../lib/log.ts';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

export interface ProgressSink { tty?: NodeJS.WriteStream; log?: Logger }

export class Progress {
  private done = 0;
  private readonly started = Date.now();
  private lastDraw = Date.now();

  constructor(private readonly label: string, private readonly total: number | undefined, private readonly sink: ProgressSink) {}

  add(bytes: number): void {
    this.done += bytes;
    const now = Date.now();
    const every = this.sink.tty ? 100 : 5000;
    if (now - this.lastDraw >= every) {
      this.lastDraw = now;
      this.draw(false);
    }
  }

  /** A pass-through that counts what flows. */
  async *count<T extends { length: number }>(source: AsyncIterable<T>): AsyncGenerator<T> {
    for await (const chunk of source) {
      this.add(chunk.length);
      yield chunk;
    }
  }

  finish(): void {
    this.draw(true);
  }

  private line(): { text: string; rate: number } {
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = this.done / secs;
    const of = this.total === undefined ? '' : ` / ${formatBytes(this.total)}`;
    return { text: `${this.label}  ${formatBytes(this.done)}${of}  ${formatBytes(rate)}/s`, rate };
  }

  private draw(final: boolean): void {
    const { text, rate } = this.line();
    if (this.sink.tty) this.sink.tty.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
    else this.sink.log?.info({ bytes: this.done, total: this.total, bytesPerSecond: Math.round(rate) }, final ? `${this.label}: done` : this.label);
  }
}
