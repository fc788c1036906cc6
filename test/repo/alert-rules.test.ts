/**
 * The Prometheus alert rules (deploy/prometheus/x402-gateway.rules.yml): promtool accepts them and
 * their unit tests pass, every alert has a runbook section in docs/operations.md (the section its
 * runbook_url names) and a promtool test case. promtool missing is a failure, never a skip.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = path.resolve(import.meta.dirname, '../..');
const RULES = 'deploy/prometheus/x402-gateway.rules.yml';
const TESTS = 'deploy/prometheus/x402-gateway.rules.test.yml';
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

interface Rule {
  readonly alert?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}
const alerts = (parse(read(RULES)) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) =>
  g.rules.filter((r) => r.alert !== undefined),
);

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  if ((run.error as { code?: string } | undefined)?.code === 'ENOENT')
    throw new Error('promtool not found: apt-get install prometheus');
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** GitHub's anchor of a markdown heading. */
const anchor = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');

describe('alert rules', () => {
  it('promtool check rules accepts the rule file', () => {
    const r = promtool('check', 'rules', RULES);
    expect(r.status, r.output).toBe(0);
  });

  it('promtool test rules passes', () => {
    const r = promtool('test', 'rules', TESTS);
    expect(r.status, r.output).toBe(0);
  });

  it('every alert has severity, summary, description and a runbook section in docs/operations.md', () => {
    expect(alerts.length).toBeGreaterThan(0);
    const anchors = new Set(
      [...read('docs/operations.md').matchAll(/^## (.+)$/gm)].map((m) => anchor(m[1]!)),
    );
    for (const rule of alerts) {
      const name = rule.alert!;
      expect(rule.labels?.severity, `${name}: severity`).toMatch(/^(critical|warning|info)$/);
      expect(rule.annotations?.summary, `${name}: summary`).toBeTruthy();
      expect(rule.annotations?.description, `${name}: description`).toBeTruthy();
      const url = rule.annotations?.runbook_url ?? '';
      const m = /^docs\/operations\.md#(.+)$/.exec(url);
      expect(m, `${name}: runbook_url "${url}"`).not.toBeNull();
      expect(m![1], `${name}: its runbook anchor`).toBe(anchor(name));
      expect(anchors.has(m![1]!), `${name}: no "## ${name}" in docs/operations.md`).toBe(true);
    }
  });

  it('every alert has a promtool test case that fires it and one that does not', () => {
    const tests = (
      parse(read(TESTS)) as {
        tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
      }
    ).tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of alerts) {
      const cases = tests.filter((t) => t.alertname === rule.alert);
      expect(
        cases.some((t) => (t.exp_alerts?.length ?? 0) > 0),
        `${rule.alert}: no firing case`,
      ).toBe(true);
      expect(
        cases.some((t) => (t.exp_alerts?.length ?? 0) === 0),
        `${rule.alert}: no quiet case`,
      ).toBe(true);
    }
  });
});
