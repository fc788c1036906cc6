/**
 * Why a listener could not bind, naming the address: "cannot listen on 127.0.0.1:8545 (the devnet
 * (anvil)): address already in use: another process holds it; stop it or pick another port".
 */
const WHY: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use: another process holds it; stop it or pick another port',
  EACCES: 'permission denied: ports below 1024 need privileges; pick a port from 1024 up',
  EADDRNOTAVAIL: 'address not available: no network interface of this machine has it',
  ENOTFOUND: 'host name not found',
};

export function listenError(err: unknown, host: string, port: number, what: string): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why =
    (code !== undefined ? WHY[code] : undefined) ??
    (err instanceof Error ? err.message : String(err));
  const at = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Error(`cannot listen on ${at} (${what}): ${why}`, { cause: err });
}
