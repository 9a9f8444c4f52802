// A progress bar on stderr while a launch runs (only when stderr is a terminal).
import cliProgress from 'cli-progress';

export class Progress {
  private readonly bar?: cliProgress.SingleBar;
  private readonly t0 = Date.now();

  constructor(
    private readonly totalFrames: number | undefined,
    private readonly durationS: number | undefined,
  ) {
    if (!process.stderr.isTTY || (totalFrames === undefined && durationS === undefined)) return;
    const unit = totalFrames !== undefined ? 'frames' : 's';
    this.bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: `running |{bar}| {value}/{total} ${unit}`, hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(totalFrames ?? Math.round(durationS!), 0);
  }

  get enabled(): boolean {
    return this.bar !== undefined;
  }

  update(framesEmitted: number): void {
    if (!this.bar) return;
    this.bar.update(this.totalFrames !== undefined ? framesEmitted : Math.min(Math.round((Date.now() - this.t0) / 1000), Math.round(this.durationS!)));
  }

  /** Prints a line without tearing the bar. */
  interrupt(print: () => void): void {
    if (!this.bar) return print();
    process.stderr.write('\r\x1b[K');
    print();
    this.bar.render();
  }

  stop(): void {
    this.bar?.stop();
  }
}
