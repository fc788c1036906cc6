/**
 * CPU time and memory of a process tree, from /proc (Linux only; elsewhere every figure is null).
 * CPU = utime + stime of every live process in the tree (children of nginx's master included).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let clkTck: number | null = null;

/** Clock ticks per second (getconf CLK_TCK, almost always 100). */
export function ticksPerSecond(): number {
  if (clkTck === null) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

interface Stat {
  ppid: number;
  ticks: number;
}

function readStat(pid: number): Stat | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // rest[0] = state (field 3) → field N is rest[N - 3].
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return null;
  }
}

/** The pid and every live descendant (one scan of /proc; bounded by the number of processes). */
export function processTree(root: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [root];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const st = readStat(Number(e));
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(Number(e));
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0 && out.length < 10_000) {
    const pid = queue.shift() as number;
    out.push(pid);
    for (const c of children.get(pid) ?? []) queue.push(c);
  }
  return out;
}

/** CPU seconds (user + system) used so far by the tree, or null when /proc is unreadable. */
export function treeCpuSeconds(root: number): number | null {
  let ticks = 0;
  let seen = false;
  for (const pid of processTree(root)) {
    const st = readStat(pid);
    if (st) {
      ticks += st.ticks;
      seen = true;
    }
  }
  return seen ? ticks / ticksPerSecond() : null;
}

/** Resident set size of the tree in bytes (sum of VmRSS), or null. */
export function treeRssBytes(root: number): number | null {
  let kb = 0;
  let seen = false;
  for (const pid of processTree(root)) {
    try {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m?.[1]) {
        kb += Number(m[1]);
        seen = true;
      }
    } catch {
      // process went away between the scan and the read
    }
  }
  return seen ? kb * 1024 : null;
}
