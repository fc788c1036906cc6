/** The contract every contender (system under test) implements. */
import type { BenchEnv } from '../env.js';
import type { LoopLag } from '../loop-lag.js';

/** Shared harness facts handed to contenders. */
export interface Harness {
  readonly env: BenchEnv;
  /** Repository root (where package.json and dist/ live). */
  readonly root: string;
  /** Scratch folder for generated configs, removed at the end. */
  readonly tmp: string;
  readonly upstreamPort: number;
  readonly upstreamPid: number;
  readonly facilitatorPort: number;
  /** CPU the system under test is pinned to, or null when not pinning. */
  readonly sutCpu: number | null;
}

/** A running system under test. */
export interface Sut {
  readonly port: number;
  /** Root of the process tree whose CPU and RSS are measured. */
  readonly pid: number;
  /** Output tail for error messages. */
  output(): string;
  stop(): Promise<void>;
  /** The event loop's lag since the previous call (the gateway's /metrics); absent elsewhere. */
  loopLag?(): Promise<LoopLag | null>;
}

export interface StartOptions {
  /** Gateway only: generate this many routes (scale scenarios). */
  readonly routes?: number;
}

export interface Contender {
  readonly name: string;
  /** Scenarios run when BENCH_SCENARIOS is not set. */
  readonly defaults: readonly string[];
  /** Scenarios it can run at all. */
  readonly supports: readonly string[];
  /**
   * Check (and build/install if allowed) whatever it needs, and do one trial start.
   * Resolves to null when it can run, or to the reason it is skipped.
   */
  prepare(h: Harness): Promise<string | null>;
  start(h: Harness, opts?: StartOptions): Promise<Sut>;
}
