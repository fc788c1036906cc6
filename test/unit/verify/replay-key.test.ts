import { describe, expect, it } from 'vitest';
import { replayKey } from '../../../src/verify/replay-key.js';
import { makeOffer, OTHER_ADDRESS } from '../../helpers/x402-fixtures.js';

const offer = makeOffer(); // Base Sepolia

describe('replayKey', () => {
  it('is chainId:asset:from:nonce, all lower-case', () => {
    const nonce = `0x${'AB'.repeat(32)}`;
    expect(replayKey(offer, OTHER_ADDRESS, nonce)).toBe(
      `84532:${offer.asset.address.toLowerCase()}:${OTHER_ADDRESS.toLowerCase()}:0x${'ab'.repeat(32)}`,
    );
  });

  it('collides for differently-cased copies of one authorization', () => {
    const nonce = `0x${'aB'.repeat(32)}`;
    expect(replayKey(offer, OTHER_ADDRESS.toLowerCase(), nonce)).toBe(
      replayKey(
        offer,
        OTHER_ADDRESS.toUpperCase().replace('0X', '0x'),
        nonce.toUpperCase().replace('0X', '0x'),
      ),
    );
  });

  it('differs between chains for the same from and nonce', () => {
    const nonce = `0x${'01'.repeat(32)}`;
    const other = makeOffer({ network: { ...offer.network, chainId: 1, caip2: 'eip155:1' } });
    expect(replayKey(offer, OTHER_ADDRESS, nonce)).not.toBe(replayKey(other, OTHER_ADDRESS, nonce));
  });
});
