/**
 * Per-client shares: no one client address (client-address.ts) may hold more than its share of the
 * gateway's connections or in-flight slots, so one address can never fill maxInFlight by itself.
 * Two Maps of counts, touched once per connection and twice per request; an entry goes when its
 * count reaches 0, so the maps hold only addresses with something open.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { addressKey, clientAddress, normaliseAddress, type ProxyTrust } from './client-address.js';

/** What a socket's peer is, worked out once per connection. */
interface Peer {
  /** The peer's normalised address. */
  readonly address: string;
  /** The key its connections are counted under. */
  readonly key: string;
  /** One of our proxies: its X-Forwarded-For is read, and its connections are not counted. */
  readonly proxy: boolean;
}

const PEER = Symbol('x402.peer');
type PeerSocket = Socket & { [PEER]?: Peer };

export class ClientShares {
  /** Most connections, and most requests in flight, one client key may hold. */
  #cap: number;
  readonly #connections = new Map<string, number>();
  readonly #inFlight = new Map<string, number>();

  constructor(
    private readonly trust: ProxyTrust,
    maxInFlight: number,
    share: number,
  ) {
    this.#cap = capOf(maxInFlight, share);
  }

  get cap(): number {
    return this.#cap;
  }

  /**
   * New limits (a config reload): counts held now stay; a client over the new cap keeps what it
   * holds and is refused more until it is back under it.
   */
  resize(maxInFlight: number, share: number): void {
    this.#cap = capOf(maxInFlight, share);
  }

  /** Is the socket's peer one of our proxies (its X-Forwarded-* and X-Request-Id are believed)? */
  fromProxy(socket: Socket): boolean {
    return this.peer(socket).proxy;
  }

  /** The socket's peer, memoised on the socket. */
  peer(socket: Socket): Peer {
    const s = socket as PeerSocket;
    let peer = s[PEER];
    if (peer === undefined) {
      const address = normaliseAddress(socket.remoteAddress ?? '');
      peer = { address, key: addressKey(address), proxy: this.trust.isProxy(address) };
      s[PEER] = peer;
    }
    return peer;
  }

  /**
   * Count a new connection; false if its peer already holds its share (the caller closes it). A
   * trusted proxy carries many clients: its connections are never counted.
   */
  connect(socket: Socket): boolean {
    const peer = this.peer(socket);
    if (peer.proxy) return true;
    const held = this.#connections.get(peer.key) ?? 0;
    if (held >= this.#cap) return false;
    this.#connections.set(peer.key, held + 1);
    socket.once('close', () => this.#drop(this.#connections, peer.key));
    return true;
  }

  /** The key a request's in-flight slot is counted under. */
  requestKey(req: IncomingMessage): string {
    const peer = this.peer(req.socket);
    if (!peer.proxy) return peer.key;
    const forwarded = req.headers['x-forwarded-for'];
    const header = typeof forwarded === 'string' ? forwarded : undefined;
    return addressKey(clientAddress(peer.address, header, this.trust));
  }

  /** Take an in-flight slot for `key`; false if it holds its share already. */
  enter(key: string): boolean {
    const held = this.#inFlight.get(key) ?? 0;
    if (held >= this.#cap) return false;
    this.#inFlight.set(key, held + 1);
    return true;
  }

  /** Give back a slot taken by `enter`. */
  leave(key: string): void {
    this.#drop(this.#inFlight, key);
  }

  /** Counts now (tests and diagnostics). */
  held(key: string): { connections: number; inFlight: number } {
    return {
      connections: this.#connections.get(key) ?? 0,
      inFlight: this.#inFlight.get(key) ?? 0,
    };
  }

  #drop(map: Map<string, number>, key: string): void {
    const held = map.get(key) ?? 0;
    if (held <= 1) map.delete(key);
    else map.set(key, held - 1);
  }
}

function capOf(maxInFlight: number, share: number): number {
  return Math.max(1, Math.floor(maxInFlight * share));
}
