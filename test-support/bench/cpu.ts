import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU seconds used so far, by who used them: this process (all its threads: the workers, the
 * workflow threads, in-process stand-ins, the client), the stand-ins' processes when they run as
 * processes, its other descendant processes (the Temporal server the bench started), and PostgreSQL (every process named postgres: the machine's server is shared,
 * so this is an upper bound). Read from /proc (Linux); elsewhere only this process is known.
 */
export interface CpuSnapshot {
  bench: number;
  /** Processes the caller names apart from the other children: the Aidbox stand-ins, when they run as processes. */
  standins: number;
  temporal: number;
  postgres: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function procStats(): Array<{ pid: number; ppid: number; name: string; seconds: number }> {
  const stats = [];
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the name: state, ppid, …; utime and stime are fields 14 and 15 of stat(5).
      stats.push({
        pid: Number(pid),
        ppid: Number(fields[1]),
        name,
        seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
      });
    } catch {
      // The process ended while we looked.
    }
  }
  return stats;
}

export function cpuSnapshot(standinPids: readonly number[] = []): CpuSnapshot {
  const usage = process.cpuUsage();
  const stats = procStats();
  const children = new Map<number, number[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const withDescendants = (root: number): Set<number> => {
    const found = new Set<number>([root]);
    const walk = (pid: number) => {
      for (const child of children.get(pid) ?? []) {
        if (found.has(child)) continue;
        found.add(child);
        walk(child);
      }
    };
    walk(root);
    return found;
  };
  const ofStandins = new Set(standinPids.flatMap((pid) => [...withDescendants(pid)]));
  const ofBench = withDescendants(process.pid);
  let standins = 0;
  let temporal = 0;
  let postgres = 0;
  for (const s of stats) {
    if (ofStandins.has(s.pid)) standins += s.seconds;
    else if (s.pid !== process.pid && ofBench.has(s.pid)) temporal += s.seconds;
    else if (s.name.startsWith('postgres')) postgres += s.seconds;
  }
  return { bench: (usage.user + usage.system) / 1e6, standins, temporal, postgres };
}

/** Milliseconds of CPU per unit of work between two snapshots. */
export function cpuPer(before: CpuSnapshot, after: CpuSnapshot, units: number): CpuSnapshot {
  const per = (k: keyof CpuSnapshot) => Math.round(((after[k] - before[k]) * 1000) / units);
  return {
    bench: per('bench'),
    standins: per('standins'),
    temporal: per('temporal'),
    postgres: per('postgres'),
  };
}
