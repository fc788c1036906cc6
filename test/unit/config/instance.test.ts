import { describe, expect, it } from 'vitest';
import { instanceName } from '../../../src/config/instance.js';
import { loadConfigText } from '../../../src/config/index.js';

const facts = { host: 'gw-host', pid: 4242 };
const listen = (port: number) => ({ host: '0.0.0.0', port });

describe('instanceName', () => {
  it('is server.instance when set', () => {
    expect(instanceName({ instance: 'eu-1', listen: listen(8402) }, facts)).toBe('eu-1');
  });

  it('defaults to HOSTNAME:PORT: stable across restarts, distinct per listener on one host', () => {
    expect(instanceName({ instance: null, listen: listen(8402) }, facts)).toBe('gw-host:8402');
    expect(instanceName({ instance: null, listen: listen(8403) }, facts)).toBe('gw-host:8403');
  });

  it('port 0 (picked at each start): the owning process id keeps two instances apart', () => {
    expect(instanceName({ instance: null, listen: listen(0) }, facts)).toBe('gw-host:0:pid4242');
    expect(instanceName({ instance: null, listen: listen(0) }, { ...facts, pid: 7 })).toBe(
      'gw-host:0:pid7',
    );
  });

  it('server.instance is validated: a non-empty string, trimmed', () => {
    const base = 'upstream: http://127.0.0.1:9\nroutes:\n  "GET /free": 0\n';
    const ok = loadConfigText(`${base}server: { instance: " gw-1 " }\n`, {}, 'g.yaml');
    expect(ok.ok && ok.config.server.instance).toBe('gw-1');
    const absent = loadConfigText(base, {}, 'g.yaml');
    expect(absent.ok && absent.config.server.instance).toBeNull();
    for (const bad of ['""', '12', '"   "']) {
      const r = loadConfigText(`${base}server: { instance: ${bad} }\n`, {}, 'g.yaml');
      expect(r.ok, bad).toBe(false);
    }
  });
});
