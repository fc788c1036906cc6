// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title Multicall3 (minimal, ABI-compatible)
 * @notice Written for the x402-gateway devnet and placed at the canonical Multicall3 address
 *         0xcA11bde05977b3631167028862bE2a173976CA11 with `anvil_setCode`. It implements the subset of
 *         the Multicall3 ABI that viem and the x402 facilitator use: aggregate, tryAggregate,
 *         aggregate3 (per-call allowFailure), plus getEthBalance / getBlockNumber /
 *         getCurrentBlockTimestamp / getChainId. Same function signatures and return shapes as the
 *         original, so clients cannot tell the difference. No storage, no constructor.
 */
contract Multicall3 {
    struct Call {
        address target;
        bytes callData;
    }

    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    /// @notice All calls must succeed.
    function aggregate(Call[] calldata calls) public payable returns (uint256 blockNumber, bytes[] memory returnData) {
        blockNumber = block.number;
        returnData = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool success, bytes memory ret) = calls[i].target.call(calls[i].callData);
            require(success, "Multicall3: call failed");
            returnData[i] = ret;
        }
    }

    /// @notice When `requireSuccess` is false, failed calls are reported instead of reverting.
    function tryAggregate(bool requireSuccess, Call[] calldata calls) public payable returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool success, bytes memory ret) = calls[i].target.call(calls[i].callData);
            if (requireSuccess) {
                require(success, "Multicall3: call failed");
            }
            returnData[i] = Result(success, ret);
        }
    }

    /// @notice Per-call failure policy (what viem's multicall uses).
    function aggregate3(Call3[] calldata calls) public payable returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool success, bytes memory ret) = calls[i].target.call(calls[i].callData);
            if (!success && !calls[i].allowFailure) {
                revert("Multicall3: call failed");
            }
            returnData[i] = Result(success, ret);
        }
    }

    function getEthBalance(address addr) public view returns (uint256 balance) {
        balance = addr.balance;
    }

    function getBlockNumber() public view returns (uint256 blockNumber) {
        blockNumber = block.number;
    }

    function getCurrentBlockTimestamp() public view returns (uint256 timestamp) {
        timestamp = block.timestamp;
    }

    function getChainId() public view returns (uint256 chainid) {
        chainid = block.chainid;
    }
}
