// Play, pause and step for a training loop that awaits pass() before each step: a paused loop
// waits inside its callback, so one fit() or fitVI() call runs the whole course whatever the
// pauses, and the result does not depend on when the buttons were pressed.

export class Gate {
  private playing = false;
  private budget = 0;
  private wake: (() => void) | null = null;
  private tickStart = 0;
  private inTick = 0;

  /**
   * perSecond: the steps run per second while playing (spread over 60 ticks a second);
   * beforeWait: called whenever the loop is about to wait (to send what it has).
   */
  constructor(
    private readonly perSecond: number,
    private readonly beforeWait: () => void,
    private readonly onStatus: (status: "paused" | "playing") => void,
  ) {}

  get isPlaying(): boolean {
    return this.playing;
  }

  play(): void {
    this.playing = true;
    this.onStatus("playing");
    this.release();
  }

  pause(): void {
    this.playing = false;
    this.onStatus("paused");
  }

  step(): void {
    if (this.playing) this.pause();
    this.budget++;
    this.release();
  }

  private release(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  async pass(): Promise<void> {
    for (;;) {
      if (this.budget > 0) {
        this.budget--;
        this.beforeWait();
        return;
      }
      if (this.playing) {
        const perTick = Math.max(1, Math.ceil(this.perSecond / 60));
        const now = performance.now();
        if (now - this.tickStart >= 1000 / 60) {
          this.tickStart = now;
          this.inTick = 0;
        }
        if (this.inTick < perTick) {
          this.inTick++;
          return;
        }
        this.beforeWait();
        await new Promise((r) => setTimeout(r, Math.max(0, this.tickStart + 1000 / 60 - now)));
        continue;
      }
      this.beforeWait();
      await new Promise<void>((r) => (this.wake = r));
    }
  }
}
