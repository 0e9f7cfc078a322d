import {
  configureSiemDestination,
  exportAuditBundle,
  listCheckpoints,
  listSiemDestinations,
  proveConsistency,
  proveInclusion,
  queryAuditRecords,
  removeSiemDestination,
  testSiemDestination,
  verifyAuditChain,
} from './audit-records.js';
import {
  listModelProviders,
  reportTaskProgress,
  startAgentTask,
  stopAgentTask,
} from './agent-tasks.js';
import { executeAction, getAction } from './gateway-actions.js';
import {
  acknowledgeRevocationReceipts,
  createDataKey,
  eraseSubject,
  exchangeCode,
  listConnections,
  listRevocationReceipts,
  openDataKey,
  revokeConnection,
} from './vault-connections.js';
import { healthContracts } from './health.js';
import type { RpcContract } from './define.js';
import { issueToken } from './vault-tokens.js';

/** Every RPC contract, for tooling that must know them all (NATS permissions, docs, tests). */
export const ALL_RPC_CONTRACTS: readonly RpcContract[] = [
  ...Object.values(healthContracts),
  executeAction,
  getAction,
  reportTaskProgress,
  startAgentTask,
  stopAgentTask,
  listModelProviders,
  issueToken,
  queryAuditRecords,
  exportAuditBundle,
  proveInclusion,
  proveConsistency,
  listCheckpoints,
  verifyAuditChain,
  configureSiemDestination,
  listSiemDestinations,
  removeSiemDestination,
  testSiemDestination,
  listConnections,
  revokeConnection,
  eraseSubject,
  createDataKey,
  openDataKey,
  exchangeCode,
  listRevocationReceipts,
  acknowledgeRevocationReceipts,
];
