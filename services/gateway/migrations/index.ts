import type { MigrationSet } from '@heroagent/db';
import * as createPeople from './20261125200000_create_people.js';
import * as createTasks from './20261125210000_create_tasks.js';
import * as createPolicies from './20261125220000_create_policies.js';
import * as createActions from './20261125230000_create_actions.js';
import * as createApprovals from './20261125233000_create_approvals.js';
import * as createTaskEvents from './20261126010000_create_task_events.js';
import * as createTenantRetention from './20261126030000_create_tenant_retention.js';
import * as moveCrossTenantJobsToRoles from './20261127090000_move_cross_tenant_jobs_to_roles.js';
import * as purgeExpiredSessionsAsSweeper from './20261127093000_purge_expired_sessions_as_sweeper.js';
import * as holdActionsAtomically from './20261205170000_hold_actions_atomically.js';
import * as createHttpRateLimits from './20261205200000_create_http_rate_limits.js';
import * as recordActionExecutors from './20261205210000_record_action_executors.js';
import * as createDataKeys from './20261206000000_create_data_keys.js';
import * as indexUndoneActions from './20261206010000_index_undone_actions.js';
import * as admitAndFinishActionsInOneStatement from './20261206040000_admit_and_finish_actions_in_one_statement.js';

/**
 * The gateway's migrations, by name. Each is frozen once merged: it takes `Kysely<any>` and never
 * imports application code.
 */
export const migrations: MigrationSet = {
  '20261125200000_create_people': createPeople,
  '20261125210000_create_tasks': createTasks,
  '20261125220000_create_policies': createPolicies,
  '20261125230000_create_actions': createActions,
  '20261125233000_create_approvals': createApprovals,
  '20261126010000_create_task_events': createTaskEvents,
  '20261126030000_create_tenant_retention': createTenantRetention,
  '20261127090000_move_cross_tenant_jobs_to_roles': moveCrossTenantJobsToRoles,
  '20261127093000_purge_expired_sessions_as_sweeper': purgeExpiredSessionsAsSweeper,
  '20261205170000_hold_actions_atomically': holdActionsAtomically,
  '20261205200000_create_http_rate_limits': createHttpRateLimits,
  '20261205210000_record_action_executors': recordActionExecutors,
  '20261206000000_create_data_keys': createDataKeys,
  '20261206010000_index_undone_actions': indexUndoneActions,
  '20261206040000_admit_and_finish_actions_in_one_statement': admitAndFinishActionsInOneStatement,
};
