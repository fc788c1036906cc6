import { describe, expect, it } from 'vitest';
import type { Address, Hex } from 'viem';
import type { ChainReader } from '../../../src/chains/index.js';
import { DEFAULTS } from '../../../src/config/index.js';
import type { SignatureCheckConfig } from '../../../src/config/index.js';
import {
  CODE_LOOKUPS_PER_SECOND,
  LocalSignatureCheck,
  type LocalCheckInput,
} from '../../../src/verify/local-check.js';
import {
  eip3009Domain,
  randomNonce,
  signTransferWithAuthorization,
} from '../../helpers/eip3009.js';
import { testAccount, TEST_PAY_TO } from '../../helpers/payments.js';

const NETWORK = 'eip155:84532';
const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
const DOMAIN = { name: 'USDC', version: '2', chainId: 84532, verifyingContract: USDC };
const T0 = 1_700_000_000_000;
const CONFIG: SignatureCheckConfig = { ...DEFAULTS.signatureCheck, minVerdicts: 2 };

/** A chain where `contracts` have code; `unknown` addresses get no answer. Counts lookups. */
function fakeChain(contracts: string[] = [], unknown: string[] = []) {
  const asked: string[] = [];
  const reader: ChainReader = {
    checkTransfer: () => Promise.reject(new Error('not asked')),
    checkSettled: () => Promise.reject(new Error('not asked')),
    hasCode: (address: Address) => {
      asked.push(address);
      const a = address.toLowerCase();
      if (unknown.includes(a)) return Promise.resolve(undefined);
      return Promise.resolve(contracts.includes(a));
    },
  };
  return { reader, asked };
}

async function honest(): Promise<LocalCheckInput> {
  const account = testAccount(0);
  const s = await signTransferWithAuthorization(account, eip3009Domain('USDC', '2', 84532, USDC), {
    from: account.address,
    to: TEST_PAY_TO,
    value: 1000n,
    validAfter: 0n,
    validBefore: 1_900_000_000n,
    nonce: randomNonce(),
  });
  return {
    network: NETWORK,
    domain: DOMAIN,
    authorization: s.authorization,
    signature: s.signature,
  };
}

const randomSig = (bytes = 65): Hex =>
  `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex')}`;

function forgedFrom(
  input: LocalCheckInput,
  from: string,
  signature = randomSig(),
): LocalCheckInput {
  return { ...input, authorization: { ...input.authorization, from }, signature };
}

function make(chains: Map<string, ChainReader>, config: SignatureCheckConfig = CONFIG) {
  const clock = { now: T0 };
  const check = new LocalSignatureCheck({ config, chains, now: () => clock.now });
  return { check, clock };
}

const EOA = '0x00000000000000000000000000000000000000e0';
const WALLET = '0x00000000000000000000000000000000000000c0';
const DARK = '0x00000000000000000000000000000000000000d0';

describe('LocalSignatureCheck.check', () => {
  it('refuses a 65-byte signature not by from when from has no code', async () => {
    const { reader } = fakeChain();
    const { check } = make(new Map([[NETWORK, reader]]));
    expect(await check.check(forgedFrom(await honest(), EOA))).toBe('refused');
  });

  it('passes an honest signature on to the facilitator without asking the chain', async () => {
    const { reader, asked } = fakeChain();
    const { check } = make(new Map([[NETWORK, reader]]));
    expect(await check.check(await honest())).toBe('recovered');
    expect(asked).toEqual([]);
  });

  it('passes a contract wallet (code at from) on, whatever its 65 bytes', async () => {
    const { reader } = fakeChain([WALLET]);
    const { check } = make(new Map([[NETWORK, reader]]));
    expect(await check.check(forgedFrom(await honest(), WALLET))).toBe('has_code');
  });

  it('passes every longer signature on, even from a code-free address', async () => {
    const { reader, asked } = fakeChain();
    const { check } = make(new Map([[NETWORK, reader]]));
    expect(await check.check(forgedFrom(await honest(), EOA, randomSig(66)))).toBe(
      'long_signature',
    );
    expect(await check.check(forgedFrom(await honest(), EOA, randomSig(200)))).toBe(
      'long_signature',
    );
    expect(asked).toEqual([]);
  });

  it('passes it on when no RPC reads the network, or the reader cannot look up code', async () => {
    const input = forgedFrom(await honest(), EOA);
    expect(await make(new Map()).check.check(input)).toBe('no_rpc');
    const { reader } = fakeChain();
    const noCodeLookup: ChainReader = {
      checkTransfer: () => Promise.reject(new Error('not asked')),
      checkSettled: () => Promise.reject(new Error('not asked')),
    };
    expect(await make(new Map([[NETWORK, noCodeLookup]])).check.check(input)).toBe('no_rpc');
    expect(await make(new Map([['eip155:8453', reader]])).check.check(input)).toBe('no_rpc');
  });

  it('passes it on when the chain cannot tell (no answer, or the lookup throws)', async () => {
    const { reader } = fakeChain([], [DARK]);
    const { check } = make(new Map([[NETWORK, reader]]));
    expect(await check.check(forgedFrom(await honest(), DARK))).toBe('code_unknown');
    const throwing: ChainReader = { ...reader, hasCode: () => Promise.reject(new Error('rpc')) };
    expect(
      await make(new Map([[NETWORK, throwing]])).check.check(forgedFrom(await honest(), EOA)),
    ).toBe('code_unknown');
  });

  it('passes a field the digest cannot encode on to the facilitator', async () => {
    const { reader } = fakeChain();
    const { check } = make(new Map([[NETWORK, reader]]));
    const input = await honest();
    expect(
      await check.check({ ...input, authorization: { ...input.authorization, value: '-5' } }),
    ).toBe('unencodable');
  });

  it('asks the chain once per from (concurrent floods coalesce), until the TTL ends', async () => {
    const { reader, asked } = fakeChain();
    const { check, clock } = make(new Map([[NETWORK, reader]]));
    const base = await honest();
    const verdicts = await Promise.all(
      Array.from({ length: 20 }, () => check.check(forgedFrom(base, EOA))),
    );
    expect(new Set(verdicts)).toEqual(new Set(['refused']));
    expect(asked).toHaveLength(1);
    expect(await check.check(forgedFrom(base, EOA))).toBe('refused'); // from the cache
    expect(asked).toHaveLength(1);
    clock.now += CONFIG.codeCacheTtlSeconds * 1000 + 1;
    await check.check(forgedFrom(base, EOA));
    expect(asked).toHaveLength(2);
  });

  it('spends at most CODE_LOOKUPS_PER_SECOND chain lookups a second: a random-from flood goes to the facilitator', async () => {
    const { reader, asked } = fakeChain();
    const { check, clock } = make(new Map([[NETWORK, reader]]));
    const base = await honest();
    const froms = Array.from(
      { length: CODE_LOOKUPS_PER_SECOND + 30 },
      (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}`,
    );
    const verdicts: string[] = [];
    for (const from of froms) verdicts.push(await check.check(forgedFrom(base, from)));
    expect(asked).toHaveLength(CODE_LOOKUPS_PER_SECOND);
    expect(verdicts.filter((v) => v === 'refused')).toHaveLength(CODE_LOOKUPS_PER_SECOND);
    expect(verdicts.filter((v) => v === 'code_unknown')).toHaveLength(30);
    // The next second has a fresh budget.
    clock.now += 1_000;
    expect(await check.check(forgedFrom(base, `0x${'ff'.repeat(20)}`))).toBe('refused');
    expect(asked).toHaveLength(CODE_LOOKUPS_PER_SECOND + 1);
  });

  it('does not cache a lookup the chain could not answer', async () => {
    const { reader, asked } = fakeChain([], [DARK]);
    const { check } = make(new Map([[NETWORK, reader]]));
    await check.check(forgedFrom(await honest(), DARK));
    await check.check(forgedFrom(await honest(), DARK));
    expect(asked).toHaveLength(2);
  });
});

describe('LocalSignatureCheck trigger and start-up', () => {
  it('is armed only while the failure ratio is high', () => {
    const { check } = make(new Map());
    expect(check.armed('1.2.3.4')).toBe(false);
    check.record('1.2.3.4', false);
    check.record('1.2.3.4', false);
    expect(check.armed('1.2.3.4')).toBe(true);
    check.record('1.2.3.4', true);
    check.record('1.2.3.4', true);
    expect(check.armed('1.2.3.4')).toBe(false);
  });

  it('stays off, saying why, without the native binding or when disabled', () => {
    const missing = new LocalSignatureCheck({
      config: CONFIG,
      chains: new Map(),
      native: { kind: 'missing', detail: 'the native secp256k1 binding did not load: arm64' },
    });
    expect(missing.active).toBe(false);
    expect(missing.detail).toContain('did not load');
    missing.record('a', false);
    missing.record('a', false);
    expect(missing.armed('a')).toBe(false);
    const disabled = new LocalSignatureCheck({
      config: { ...CONFIG, enabled: false },
      chains: new Map(),
    });
    expect(disabled.active).toBe(false);
    expect(disabled.detail).toContain('enabled is false');
    expect(make(new Map()).check.active).toBe(true);
  });
});

describe('signedByFrom (what the rate limits count against a payer)', () => {
  it("is true only for a 65-byte signature by `from`'s own key, even with the check disabled", async () => {
    const off = new LocalSignatureCheck({
      config: { ...CONFIG, enabled: false },
      chains: new Map(),
    });
    const input = await honest();
    expect(off.signedByFrom(input)).toBe(true);
    // Someone else's valid signature sent under `from`, a random one, a longer one: never.
    const other = await honest();
    expect(
      off.signedByFrom({
        ...other,
        authorization: { ...other.authorization, from: testAccount(1).address },
      }),
    ).toBe(false);
    expect(off.signedByFrom(forgedFrom(input, input.authorization.from))).toBe(false);
    expect(off.signedByFrom({ ...input, signature: randomSig(100) })).toBe(false);
    // Another token's domain: not this payment's signature.
    expect(off.signedByFrom({ ...input, domain: { ...DOMAIN, version: '1' } })).toBe(false);
  });

  it('is false without the native binding (nothing is counted without proof)', async () => {
    const missing = new LocalSignatureCheck({
      config: CONFIG,
      chains: new Map(),
      native: { kind: 'missing', detail: 'no binding' },
    });
    expect(missing.signedByFrom(await honest())).toBe(false);
  });
});
