import { describe, expect, it } from 'vitest';
import { unsupportedOffers } from '../../../src/verify/readiness.js';
import { BASE, makeOffer, makeRoute } from '../../helpers/x402-fixtures.js';

describe('unsupportedOffers', () => {
  const sepoliaRoute = makeRoute();
  const baseRoute = {
    ...makeRoute({ offers: [makeOffer({ network: BASE })] }),
    id: 'GET /v1/base',
  };

  it('reports nothing when every configured network is listed for both versions', () => {
    const supported = {
      kinds: [
        { x402Version: 1, scheme: 'exact', network: 'base-sepolia' },
        { x402Version: 2, scheme: 'exact', network: 'eip155:84532' },
      ],
    };
    expect(unsupportedOffers(supported, [sepoliaRoute])).toEqual([]);
  });

  it('names each missing (version, network) once, with the routes that need it', () => {
    const supported = { kinds: [{ x402Version: 2, scheme: 'exact', network: 'eip155:84532' }] };
    expect(unsupportedOffers(supported, [sepoliaRoute, baseRoute])).toEqual([
      { network: 'base-sepolia', x402Version: 1, routes: ['GET /v1/quote'] },
      { network: 'base', x402Version: 1, routes: ['GET /v1/base'] },
      { network: 'eip155:8453', x402Version: 2, routes: ['GET /v1/base'] },
    ]);
  });

  it('ignores kinds of other schemes', () => {
    const supported = {
      kinds: [
        { x402Version: 1, scheme: 'upto', network: 'base-sepolia' },
        { x402Version: 2, scheme: 'upto', network: 'eip155:84532' },
      ],
    };
    expect(unsupportedOffers(supported, [sepoliaRoute])).toHaveLength(2);
  });
});
