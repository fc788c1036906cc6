/** Stage 1: bound the work in flight and the request body before anything else. */
import type { Stage } from '../stage.js';
import { errorReply } from '../replies.js';
import { GATEWAY_REASON } from '../reasons.js';

export const admit: Stage = {
  name: 'admit',
  paidOnly: false,
  run(ctx, deps) {
    const limits = deps.config.server.limits;
    // The count is raised in run.ts for every request and lowered in observe: this only decides.
    if (deps.inFlight.count > limits.maxInFlight) {
      ctx.outcome = 'overloaded';
      ctx.reason = GATEWAY_REASON.overloaded;
      return errorReply(503, GATEWAY_REASON.overloaded, 'too many requests in flight', {
        'retry-after': '1',
      });
    }
    // One address may hold only its share of the slots: without this, a few hundred sockets from
    // one host that never finish their bodies would take every slot from every honest payer.
    const key = deps.clients.requestKey(ctx.req);
    if (!deps.clients.enter(key)) {
      ctx.outcome = 'overloaded';
      ctx.reason = GATEWAY_REASON.clientShareExceeded;
      return errorReply(
        429,
        GATEWAY_REASON.clientShareExceeded,
        `this client already has ${deps.clients.cap} requests in flight`,
        { 'retry-after': '1' },
      );
    }
    ctx.clientKey = key;
    const length = ctx.req.headers['content-length'];
    if (length !== undefined && Number(length) > limits.maxBodyBytes) {
      ctx.outcome = 'bad_request';
      ctx.reason = GATEWAY_REASON.payloadTooLarge;
      return errorReply(
        413,
        GATEWAY_REASON.payloadTooLarge,
        `request body over ${limits.maxBodyBytes} bytes`,
      );
    }
    return undefined;
  },
};
