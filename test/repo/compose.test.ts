/**
 * The compose stack (deploy/docker-compose.yml). No Docker engine runs here, so what can break
 * without one is checked instead: every host path it names exists (relative to the compose file),
 * every image is pinned to an exact tag, Prometheus's config passes promtool with its rule_files
 * resolved beside it, Grafana's provisioning loads the committed dashboard onto a data source its
 * panels resolve to, and the gateway's config passes the gateway's own validator. promtool missing
 * is a failure, never a skip.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = path.resolve(import.meta.dirname, '../..');
const COMPOSE = 'deploy/docker-compose.yml';
const composeDir = path.dirname(path.join(root, COMPOSE));
const readYaml = (file: string): unknown => parse(fs.readFileSync(path.join(root, file), 'utf8'));

type Volume = string | { type?: string; source?: string; target?: string };
interface Service {
  readonly image?: string;
  readonly build?: string | { context?: string; dockerfile?: string };
  readonly volumes?: Volume[];
  readonly env_file?: string | (string | { path: string })[];
  readonly environment?: Record<string, string> | string[];
  readonly profiles?: string[];
}
interface Compose {
  readonly services: Record<string, Service>;
  readonly configs?: Record<string, { file?: string }>;
  readonly secrets?: Record<string, { file?: string }>;
}
const compose = readYaml(COMPOSE) as Compose;
const services = Object.entries(compose.services);

/** A volume's host side when it is a bind mount (a path), else undefined (a named volume). */
function bindSource(volume: Volume): string | undefined {
  if (typeof volume !== 'string') return volume.type === 'bind' ? volume.source : undefined;
  const source = volume.split(':')[0]!;
  return /^[./~]/.test(source) ? source : undefined;
}
/** A volume's path inside the container. */
const target = (volume: Volume) =>
  typeof volume === 'string' ? volume.split(':')[1]! : volume.target!;

/** Every host path the compose file names, with what names it. */
function hostPaths(): { what: string; file: string }[] {
  const paths: { what: string; file: string }[] = [];
  for (const [name, service] of services) {
    if (service.build !== undefined) {
      const build = typeof service.build === 'string' ? { context: service.build } : service.build;
      const context = build.context ?? '.';
      paths.push({ what: `${name}: build context`, file: context });
      // compose resolves the dockerfile against the build context, not the compose file
      paths.push({
        what: `${name}: dockerfile`,
        file: path.join(context, build.dockerfile ?? 'Dockerfile'),
      });
    }
    for (const volume of service.volumes ?? []) {
      const source = bindSource(volume);
      if (source !== undefined) paths.push({ what: `${name}: volume`, file: source });
    }
    const envFiles = service.env_file === undefined ? [] : [service.env_file].flat();
    for (const env of envFiles) {
      paths.push({ what: `${name}: env_file`, file: typeof env === 'string' ? env : env.path });
    }
  }
  for (const [name, entry] of Object.entries({ ...compose.configs, ...compose.secrets })) {
    if (entry.file !== undefined) paths.push({ what: `${name}: file`, file: entry.file });
  }
  return paths;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(command, args, { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  if ((result.error as { code?: string } | undefined)?.code === 'ENOENT')
    throw new Error(
      `${command} not found${command === 'promtool' ? ': apt-get install prometheus' : ''}`,
    );
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const service = (name: string): Service => {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`${COMPOSE} has no service "${name}"`);
  return found;
};
/** The container path a service mounts a host file or folder (relative to the compose file) at. */
function mountTarget(name: string, hostFile: string): string {
  const volume = (service(name).volumes ?? []).find(
    (v) => bindSource(v) !== undefined && path.resolve(composeDir, bindSource(v)!) === hostFile,
  );
  if (volume === undefined)
    throw new Error(`${name} does not mount ${path.relative(root, hostFile)}`);
  return target(volume);
}

describe('deploy/docker-compose.yml', () => {
  it('runs the gateway, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['gateway', 'prometheus', 'grafana']),
    );
  });

  it('every host path it references exists, relative to the compose file', () => {
    const paths = hostPaths();
    // the gateway's build and the config files each service mounts at least
    expect(paths.length).toBeGreaterThanOrEqual(8);
    for (const { what, file } of paths) {
      expect(fs.existsSync(path.resolve(composeDir, file)), `${what}: ${file} does not exist`).toBe(
        true,
      );
    }
  });

  it('builds the gateway from the repository Dockerfile', () => {
    const build = service('gateway').build as { context: string; dockerfile?: string };
    expect(path.resolve(composeDir, build.context)).toBe(root);
    expect(path.resolve(composeDir, build.context, build.dockerfile ?? 'Dockerfile')).toBe(
      path.join(root, 'Dockerfile'),
    );
  });

  it('pins every pulled image to an exact version tag', () => {
    for (const [name, { image, build }] of services) {
      if (build !== undefined) continue; // built here: its tag is a local name
      expect(image, `${name}: no image`).toBeDefined();
      // repository:tag with a version of at least major.minor.patch; never latest or a floating major
      expect(image, `${name}: ${image} is not pinned`).toMatch(/^[\w./-]+:v?\d+\.\d+\.\d+$/);
    }
  });

  it('publishes ports on the loopback only', () => {
    for (const [name, s] of services) {
      for (const port of (s as { ports?: string[] }).ports ?? []) {
        expect(String(port), `${name}: ${port}`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      }
    }
  });

  it('passes the gateway every ${NAME} its config references', () => {
    const config = fs.readFileSync(path.join(root, 'deploy/gateway/gateway.yaml'), 'utf8');
    const referenced = [...config.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!);
    expect(referenced.length).toBeGreaterThan(0);
    const environment = service('gateway').environment as Record<string, string>;
    for (const name of referenced) expect(environment, name).toHaveProperty(name);
  });
});

describe('the compose stack configs', () => {
  it('promtool check config accepts deploy/prometheus/prometheus.yml and its rule files', () => {
    const r = run('promtool', ['check', 'config', 'deploy/prometheus/prometheus.yml']);
    expect(r.status, r.output).toBe(0);
    // rule_files resolve beside the config: promtool names the rules it loaded
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('Prometheus scrapes the gateway admin listener as job x402-gateway, where the rules expect it', () => {
    const prom = readYaml('deploy/prometheus/prometheus.yml') as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const job = prom.scrape_configs.find((c) => c.job_name === 'x402-gateway');
    expect(job).toBeDefined();
    const gatewayConfig = readYaml('deploy/gateway/gateway.yaml') as { server: { admin: string } };
    const adminPort = gatewayConfig.server.admin.split(':').at(-1);
    expect(job!.static_configs.flatMap((s) => s.targets)).toContain(`gateway:${adminPort}`);
    expect(gatewayConfig.server.admin).toMatch(/^0\.0\.0\.0:/); // reachable from the other containers
    // the container sees the config and its rules side by side, as promtool did
    const config = mountTarget('prometheus', path.join(root, 'deploy/prometheus/prometheus.yml'));
    for (const rules of prom.rule_files) {
      const onHost = path.join(root, 'deploy/prometheus', rules);
      expect(mountTarget('prometheus', onHost)).toBe(path.posix.join(path.dirname(config), rules));
    }
  });

  it('Grafana provisions the committed dashboard onto a data source its panels resolve to', () => {
    const providers = (
      readYaml('deploy/grafana/provisioning/dashboards/x402-gateway.yml') as {
        providers: { type: string; options: { path: string } }[];
      }
    ).providers;
    const dashboardTarget = mountTarget(
      'grafana',
      path.join(root, 'deploy/grafana/x402-gateway.json'),
    );
    expect(
      providers.some(
        (p) => p.type === 'file' && path.posix.dirname(dashboardTarget) === p.options.path,
      ),
    ).toBe(true);
    for (const dir of ['datasources', 'dashboards']) {
      const host = path.join(root, 'deploy/grafana/provisioning', dir);
      expect(mountTarget('grafana', host)).toBe(`/etc/grafana/provisioning/${dir}`);
    }

    const sources = (
      readYaml('deploy/grafana/provisioning/datasources/prometheus.yml') as {
        datasources: { uid: string; type: string; isDefault?: boolean; url: string }[];
      }
    ).datasources;
    const prometheus = sources.find((s) => s.type === 'prometheus' && s.isDefault === true);
    expect(prometheus, 'a default Prometheus data source').toBeDefined();
    expect(prometheus!.uid).toMatch(/^[\w-]{1,40}$/);
    expect(new URL(prometheus!.url).hostname).toBe('prometheus'); // the compose service

    const dashboard = JSON.parse(
      fs.readFileSync(path.join(root, 'deploy/grafana/x402-gateway.json'), 'utf8'),
    ) as { templating: { list: { type: string; name: string; query?: unknown }[] } };
    const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    const refs: { type?: string; uid?: string }[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node !== null && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'datasource' && typeof value === 'object') refs.push(value as never);
          else walk(value);
        }
      }
    };
    walk(dashboard);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref.type).toBe('prometheus');
      const variable = /^\$\{(\w+)\}$/.exec(ref.uid ?? '')?.[1];
      if (variable === undefined) {
        expect(ref.uid).toBe(prometheus!.uid);
        continue;
      }
      // a data source variable of type prometheus starts on the default one: the provisioned source
      const v = variables.get(variable);
      expect(v?.type, `variable ${variable}`).toBe('datasource');
      expect(v?.query).toBe(prometheus!.type);
    }
  });

  it('the gateway config passes x402-gateway validate with the environment compose passes', () => {
    // compose's own defaults (${NAME:-default}); the required ones (${NAME:?why}) get sample values
    const required: Record<string, string> = {
      PAY_TO: '0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f',
      UPSTREAM_URL: 'http://host.docker.internal:3000',
    };
    const env: NodeJS.ProcessEnv = { ...process.env };
    const environment = service('gateway').environment as Record<string, string>;
    for (const [name, value] of Object.entries(environment)) {
      const m = /^\$\{(\w+)(?::-(.*)|:\?.*)\}$/.exec(value);
      expect(m, `${name}: ${value}`).not.toBeNull();
      env[name] = m![2] ?? required[m![1]!];
      expect(env[name], `a sample value for the required ${name}`).toBeDefined();
    }
    const args = [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'validate',
      '--config',
      'deploy/gateway/gateway.yaml',
    ];
    const r = run(process.execPath, args, env);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(': ok (');
    // and an unset reference is a refusal, not a config that quietly forwards nowhere
    const without = { ...env };
    delete without.UPSTREAM_URL;
    const refused = run(process.execPath, args, without);
    expect(refused.status, refused.output).toBe(1);
    expect(refused.output).toContain('environment variable UPSTREAM_URL is not set');
  }, 150_000); // two node + tsx starts, each bounded by run()'s 60 s
});
