/**
 * When money is collected, decided once for the whole gateway:
 *
 * Default "settle at headers": hold the upstream response once its status and headers arrive,
 * settle, and only then stream the body. The client is charged only for a response the upstream
 * actually produced (status < 400), and never receives content it has not paid for. A route may opt
 * into "buffer then settle" (capped), reading the whole body before settling.
 *
 * Settling before forwarding is not offered: it charges clients for upstream failures.
 */
export function shouldSettle(upstreamStatus: number): boolean {
  return upstreamStatus < 400;
}
