import { availableParallelism, cpus, loadavg, platform, arch, release } from 'node:os';

/** What the numbers were measured on; a bench result without it cannot be compared. */
export interface MachineInfo {
  readonly node: string;
  readonly platform: string;
  readonly cpuModel: string;
  readonly cpus: number;
  /** 1-minute load average at the start: a busy machine explains odd numbers. */
  readonly loadAverage1m: number;
}

export function describeMachine(): MachineInfo {
  return {
    node: process.version,
    platform: `${platform()} ${arch()} ${release()}`,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: availableParallelism(),
    loadAverage1m: loadavg()[0] ?? Number.NaN,
  };
}
