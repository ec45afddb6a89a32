/** Where time comes from. core/ never calls Date.now(). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * A clock that can be moved (local stack and tests: `POST /dev/clock`).
 * After `set`, time keeps flowing from the new instant, so tokens and expiries behave as in life.
 */
export class SettableClock implements Clock {
  #offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.#offsetMs);
  }
  /** How far this clock has been moved from the system clock, in ms (the sum of its jumps). */
  get offsetMs(): number {
    return this.#offsetMs;
  }
  set(instant: Date): void {
    this.#offsetMs = instant.getTime() - Date.now();
  }
}
