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
  createDataKey,
  eraseSubject,
  listConnections,
  openDataKey,
  revokeConnection,
  storeConnection,
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
  storeConnection,
  listConnections,
  revokeConnection,
  eraseSubject,
  createDataKey,
  openDataKey,
];
