/** The node inside the app: started, paused (stopped, archive closed) and resumed with the same configuration. */
import type { KeeperEvent } from '../contract/contract.ts';
import type { KeeperConfig } from '../core/settings/config.ts';
import { Keeper } from '../core/keeper.ts';

export class NodeRunner {
  private readonly config: KeeperConfig;
  private readonly onEvent: (e: KeeperEvent) => void;
  private current: Keeper | null = null;
  private changing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<(keeper: Keeper | null) => void>();

  constructor(config: KeeperConfig, onEvent: (e: KeeperEvent) => void) {
    this.config = config;
    this.onEvent = onEvent;
  }

  get keeper(): Keeper | null {
    return this.current;
  }

  get paused(): boolean {
    return this.current === null;
  }

  /** Called with the new Keeper (or null) whenever the node starts or stops. */
  onChange(listener: (keeper: Keeper | null) => void): void {
    this.listeners.add(listener);
  }

  start(): Promise<void> {
    return this.serialize(async () => {
      if (this.current) return;
      this.current = await Keeper.start({ ...this.config, explicit: [...this.config.explicit] }, { onEvent: this.onEvent });
      for (const l of this.listeners) l(this.current);
    });
  }

  /** Stops the node within its bounded stop time; the archive is closed. */
  stop(reason = 'paused'): Promise<void> {
    return this.serialize(async () => {
      const k = this.current;
      if (!k) return;
      this.current = null;
      for (const l of this.listeners) l(null);
      await k.stop(reason);
    });
  }

  private serialize(step: () => Promise<void>): Promise<void> {
    this.changing = this.changing.then(step, step);
    return this.changing;
  }
}
