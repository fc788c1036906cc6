import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ARTIFACT_PATH, generateArtifactSource } from '../../../../contracts/build.js';
import {
  EIP3009_TOKEN_ARTIFACT,
  MULTICALL3_ARTIFACT,
} from '../../../../src/devnet/artifacts/contracts.js';

describe('committed devnet contract artifact', () => {
  it('matches a fresh compile of contracts/*.sol with the pinned solc (run `npx tsx contracts/build.ts` if not)', () => {
    const fresh = generateArtifactSource();
    expect(readFileSync(ARTIFACT_PATH, 'utf8')).toBe(fresh);
  }, 60_000);

  it('exposes the EIP-3009 surface the facilitator and clients call', () => {
    const fns = new Set(
      EIP3009_TOKEN_ARTIFACT.abi
        .filter((e) => e.type === 'function')
        .map(
          (e) =>
            `${e.name}(${(e as unknown as { inputs: readonly { type: string }[] }).inputs.map((i) => i.type).join(',')})`,
        ),
    );
    for (const sig of [
      'transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)',
      'transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)',
      'receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)',
      'receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)',
      'authorizationState(address,bytes32)',
      'balanceOf(address)',
      'name()',
      'version()',
      'decimals()',
      'DOMAIN_SEPARATOR()',
      'transfer(address,uint256)',
      'approve(address,uint256)',
      'transferFrom(address,address,uint256)',
      'mint(address,uint256)',
      'initialize(string,string)',
    ]) {
      expect(fns, sig).toContain(sig);
    }
    const events = EIP3009_TOKEN_ARTIFACT.abi.filter((e) => e.type === 'event').map((e) => e.name);
    expect(events).toEqual(expect.arrayContaining(['Transfer', 'AuthorizationUsed', 'Approval']));
    const mc = MULTICALL3_ARTIFACT.abi.filter((e) => e.type === 'function').map((e) => e.name);
    expect(mc).toEqual(
      expect.arrayContaining(['aggregate', 'aggregate3', 'tryAggregate', 'getEthBalance']),
    );
    expect(EIP3009_TOKEN_ARTIFACT.deployedBytecode).toMatch(/^0x[0-9a-f]+$/);
  });
});
