/**
 * Which chain an RPC serves: its `eth_chainId`, as the CAIP-2 network the gateway keys chain readers
 * by. For a chain reader built without starting the built-in facilitator (which reads it itself).
 */
import { createPublicClient, http } from 'viem';

/** `eip155:<chain id>` of the chain `rpcUrl` answers for; rejects when it does not answer. */
export async function readNetwork(rpcUrl: string, timeoutMs = 5_000): Promise<string> {
  const client = createPublicClient({
    transport: http(rpcUrl, { timeout: timeoutMs, retryCount: 0 }),
  });
  return `eip155:${await client.getChainId()}`;
}
