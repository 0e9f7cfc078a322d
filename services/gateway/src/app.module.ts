import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import type { Strategy } from 'passport';
import { gatewayKeysErased, healthContracts, type SignInProvider } from '@heroagent/contracts';
import type { Kysely } from '@heroagent/db';
import {
  ContractClient,
  HealthModule,
  HealthService,
  postgresIndicator,
  type ServiceRuntime,
} from '@heroagent/service';
import { ActionAdmissionRepository } from './actions/action-admission.repository.js';
import { CancelHeldActions } from './actions/cancel-held-actions.js';
import { ResumeAction } from './actions/resume-action.js';
import { TaskContentRepository } from './actions/task-content.repository.js';
import { RefusalTally } from './tasks/refusal-tally.js';
import { StartTask } from './tasks/start-task.js';
import { StopTask } from './tasks/stop-task.js';
import { SwitchAgents } from './tasks/switch-agents.js';
import { ActionConnectors } from './actions/action-connectors.js';
import { ActionExecutor } from './actions/action-executor.js';
import { AgentClient } from './agent/agent.client.js';
import { AgentSettingsController } from './agent/agent-settings.controller.js';
import { AgentSettingsRepository } from './agent/agent-settings.repository.js';
import { ActionsHandler } from './actions/actions.handler.js';
import { ActionReplayRepository } from './actions/action-replay.repository.js';
import { ActionSweepsRepository } from './actions/action-sweeps.repository.js';
import { ActionsRepository } from './actions/actions.repository.js';
import { ExecuteAction } from './actions/execute-action.js';
import type { ExecutorLease } from './actions/executor-lease.js';
import { FailStaleActions } from './actions/fail-stale-actions.js';
import { GetAction } from './actions/get-action.js';
import { PerformAction } from './actions/perform-action.js';
import { ReleaseDueSends } from './actions/release-due-sends.js';
import { ReplayAction } from './actions/replay-action.js';
import { UndoController } from './actions/undo.controller.js';
import { ApprovalsController } from './approvals/approvals.controller.js';
import { ApprovalsRepository } from './approvals/approvals.repository.js';
import { ApprovalsService } from './approvals/approvals.service.js';
import { AuditRecorder } from './audit/audit-recorder.js';
import { AuditRelay } from './audit/audit-relay.js';
import type { GatewayConfig } from './config.js';
import { ConnectionsController } from './connections/connections.controller.js';
import { RecordRevocationReceipts } from './connections/record-revocation-receipts.js';
import { AccessTokenCache } from './connections/access-token-cache.js';
import { VaultProxyClient } from './connections/vault-proxy.client.js';
import { CalendarConnector } from './connectors/calendar.connector.js';
import { GmailConnector } from './connectors/gmail.connector.js';
import { MerchantConnector } from './connectors/merchant.connector.js';
import { Housekeeping } from './housekeeping.js';
import { currentClient } from './http/client-context.js';
import { Cookies } from './http/cookies.js';
import { EdgeGuard } from './http/edge.guard.js';
import { HttpThrottlerGuard } from './http/http-throttler.guard.js';
import { PUBLIC_ORIGIN, PublicOrigin } from './http/public-origin.js';
import { PostgresThrottlerStorage } from './http/rate-limits/postgres-throttler-storage.js';
import { RateLimitsRepository } from './http/rate-limits/rate-limits.repository.js';
import { MyDataController } from './people/my-data.controller.js';
import { MyTaskHistory } from './people/my-task-history.js';
import { PeopleRepository } from './people/people.repository.js';
import { PoliciesRepository } from './policy/policies.repository.js';
import { PolicyEngine } from './policy/policy-engine.js';
import { PolicyController } from './policy/policy.controller.js';
import { PolicySimulationController } from './policy/policy-simulation.controller.js';
import { SimulatePolicy } from './policy/simulate-policy.js';
import { ProbesController } from './probes/probes.controller.js';
import { ReadinessService } from './probes/readiness.service.js';
import { ActivityController } from './records/activity.controller.js';
import { AuditExports } from './records/audit-exports.js';
import { AuditRecordsClient } from './records/audit-records.client.js';
import { ExportsController } from './records/exports.controller.js';
import { IntegrityController } from './records/integrity.controller.js';
import { SiemController } from './records/siem.controller.js';
import { ApplyRetention } from './retention/apply-retention.js';
import { RetentionController } from './retention/retention.controller.js';
import { RetentionRepository } from './retention/retention.repository.js';
import { SessionController } from './sessions/session.controller.js';
import { SessionsRepository } from './sessions/sessions.repository.js';
import { SessionsService } from './sessions/sessions.service.js';
import { FlowStateStore } from './sign-in/flow-state.store.js';
import { FlowsRepository } from './sign-in/flows.repository.js';
import { GoogleStrategy } from './sign-in/google.strategy.js';
import { OAuthFlows } from './sign-in/oauth-flows.js';
import { OidcStrategy } from './sign-in/oidc.strategy.js';
import { SignInController, SignInProviders } from './sign-in/sign-in.controller.js';
import { SignInFailures } from './sign-in/sign-in-failures.js';
import { SignInService } from './sign-in/sign-in.service.js';
import { PersonalKeys } from './privacy/personal-keys.js';
import { ActivityPages } from './records/activity-pages.js';
import type { GatewayDatabase } from './store-tables.js';
import { AgentHandOff } from './tasks/agent-hand-off.js';
import { Capabilities } from './tasks/capabilities.js';
import { CapabilityGate } from './tasks/capability-gate.js';
import { TaskEventsController } from './tasks/task-events.controller.js';
import { TaskEventsRepository } from './tasks/task-events.repository.js';
import { TaskReports } from './tasks/task-reports.js';
import { TaskReportsHandler } from './tasks/task-reports.handler.js';
import { TasksController } from './tasks/tasks.controller.js';
import { TasksRepository } from './tasks/tasks.repository.js';
import { InvitationsRepository } from './tenants/invitations.repository.js';
import {
  InvitationLinks,
  TenantCreation,
  TenantsController,
} from './tenants/tenants.controller.js';

/** What the gateway's root module is built from, beyond the common runtime. */
export interface GatewayRuntime extends ServiceRuntime<GatewayConfig> {
  /** The cross-tenant jobs' own connections (see GATEWAY_JOBS); everything else uses `db`. */
  readonly jobDatabases: { readonly relay: Kysely<unknown>; readonly sweeper: Kysely<unknown> };
  readonly client: ContractClient;
  readonly publicOrigin: PublicOrigin;
  /** This replica's executor lease, held before anything is served (actions/executor-lease.ts). */
  readonly lease: ExecutorLease;
}

/**
 * Unwrapped data keys stay in a replica's memory at most a minute (an erasure through another
 * replica is honoured here within that), and at most this many at once.
 */
const PERSONAL_KEYS = { ttlMs: 60_000, maxCached: 10_000 };

/** How long a browser has to finish an OAuth flow it started. */
const FLOW_TTL_MS = 10 * 60_000;

/** The gateway's root module: the HTTP edge, sign-in, sessions, tenants, connections, your data. */
@Module({})
export class AppModule {
  static register(runtime: GatewayRuntime): DynamicModule {
    const { config, logger } = runtime;
    const db = runtime.db as Kysely<GatewayDatabase>;
    const relayDb = runtime.jobDatabases.relay as Kysely<GatewayDatabase>;
    const sweeperDb = runtime.jobDatabases.sweeper as Kysely<GatewayDatabase>;
    const health = HealthModule.forService(healthContracts.gateway, runtime.identity, [
      postgresIndicator(runtime.db),
      { name: 'nats', check: () => runtime.client.ping() },
    ]);
    const origin = () => runtime.publicOrigin.get();
    const cookies = new Cookies(config.http.secureCookies);
    const people = new PeopleRepository(db);
    const invitations = new InvitationsRepository(db);
    const flowsRepository = new FlowsRepository(db, sweeperDb);
    const sessions = new SessionsService(new SessionsRepository(db, sweeperDb), config.sessions);
    const rateLimits = new RateLimitsRepository(db);
    const relay = new AuditRelay(relayDb, config.relayNats, logger);
    const accessTokens = new AccessTokenCache(config.tokenCache);
    const vault = new VaultProxyClient(
      runtime.client,
      config.signingKey,
      config.sealingKey,
      accessTokens,
    );
    const keys = new PersonalKeys(db, vault, PERSONAL_KEYS, (erased) =>
      runtime.client.publish(gatewayKeysErased, erased),
    );
    const audit = new AuditRecorder(
      db,
      config.signingKey,
      keys,
      undefined,
      () => relay.nudge(),
      currentClient,
    );
    const store = new FlowStateStore(flowsRepository, FLOW_TTL_MS);
    const strategies = new Map<SignInProvider, { name: string; strategy: Strategy }>();
    if (config.google !== undefined) {
      strategies.set('google', {
        name: 'Google',
        strategy: new GoogleStrategy(config.google, store),
      });
    }
    if (config.oidc !== undefined) {
      strategies.set('oidc', {
        name: config.oidc.displayName,
        strategy: new OidcStrategy(config.oidc, store, {
          timeoutMs: config.oauthTimeoutMs,
          allowHttp: config.telemetry.HEROAGENT_ENV !== 'production',
        }),
      });
    }
    const providers = new SignInProviders(strategies);
    const tasks = new TasksRepository(db, keys);
    const capabilities = new Capabilities(config.signingKey);
    const policies = new PoliciesRepository(db);
    const actions = new ActionsRepository(db, runtime.lease, keys);
    const sweeps = new ActionSweepsRepository(db, sweeperDb, keys);
    // One engine: actions are decided with it, and the simulator replays exactly that.
    const engine = new PolicyEngine();
    const approvals = new ApprovalsRepository(db, sweeperDb, keys);
    const gate = new CapabilityGate(
      capabilities,
      tasks,
      new RefusalTally((tenantId) => tasks.tenantExists(tenantId), audit, logger),
    );
    const recordReceipts = new RecordRevocationReceipts(vault, audit, logger);
    const connectors = new ActionConnectors(
      vault,
      [
        new GmailConnector({
          rootUrl: config.providers.gmailRootUrl,
          timeoutMs: config.providers.timeoutMs,
        }),
        new CalendarConnector({
          rootUrl: config.providers.calendarRootUrl,
          timeoutMs: config.providers.timeoutMs,
        }),
        new MerchantConnector(config.merchants, config.providers.timeoutMs),
      ],
      logger,
    );
    const performAction = new PerformAction(actions, connectors, audit, config.sendWindowMs);
    const admission = new ActionAdmissionRepository(db, keys);
    const resumeAction = new ResumeAction(admission, actions, engine, performAction, audit);
    const cancelHeld = new CancelHeldActions(actions, approvals, audit);
    const failStaleActions = new FailStaleActions(sweeps, audit);
    const stopTask = new StopTask(tasks, cancelHeld, audit);
    const executeAction = new ExecuteAction(
      gate,
      admission,
      actions,
      engine,
      approvals,
      audit,
      new ReplayAction(actions, approvals, failStaleActions, config.retryWaitMs),
      performAction,
      config.approvals,
      new TaskContentRepository(keys),
    );
    const getAction = new GetAction(gate, actions, approvals);
    const releaseDueSends = new ReleaseDueSends(actions, sweeps, resumeAction, connectors, audit);
    const agent = new AgentClient(runtime.client);
    const agentSettings = new AgentSettingsRepository(db);
    const taskEvents = new TaskEventsRepository(db, keys);
    const handOff = new AgentHandOff(agent, agentSettings, tasks, stopTask, logger);
    const approvalsService = new ApprovalsService(
      approvals,
      actions,
      resumeAction,
      performAction,
      audit,
    );
    const auditRecords = new AuditRecordsClient(runtime.client);
    const retention = new RetentionRepository(db, sweeperDb);
    const applyRetention = new ApplyRetention(retention, audit);
    const values: [unknown, unknown][] = [
      [ContractClient, runtime.client],
      [PUBLIC_ORIGIN, runtime.publicOrigin],
      [Cookies, cookies],
      [PeopleRepository, people],
      [MyTaskHistory, new MyTaskHistory(db, keys)],
      [InvitationsRepository, invitations],
      [SessionsService, sessions],
      [AuditRecorder, audit],
      [SignInProviders, providers],
      [
        OAuthFlows,
        new OAuthFlows(
          flowsRepository,
          store,
          vault,
          cookies,
          origin,
          { timeoutMs: config.oauthTimeoutMs, flowTtlMs: FLOW_TTL_MS },
          logger,
        ),
      ],
      [SignInService, new SignInService(people, invitations, config.signUp, audit)],
      [SignInFailures, new SignInFailures(invitations, rateLimits, audit, logger)],
      [VaultProxyClient, vault],
      [AccessTokenCache, accessTokens],
      [PersonalKeys, keys],
      [InvitationLinks, new InvitationLinks(origin, () => [...strategies.keys()][0] ?? 'google')],
      [TenantCreation, new TenantCreation(config.signUp)],
      [TasksRepository, tasks],
      [TaskEventsRepository, taskEvents],
      [AgentClient, agent],
      [AgentSettingsRepository, agentSettings],
      [AgentHandOff, handOff],
      [StopTask, stopTask],
      [
        StartTask,
        new StartTask(tasks, capabilities, vault, audit, handOff, config.agentTasksPerTenant),
      ],
      [SwitchAgents, new SwitchAgents(tasks, cancelHeld, audit)],
      [CancelHeldActions, cancelHeld],
      [TaskReports, new TaskReports(capabilities, gate, taskEvents, audit)],
      [PoliciesRepository, policies],
      [
        SimulatePolicy,
        new SimulatePolicy(new ActionReplayRepository(db, keys), policies, people, engine),
      ],
      [Capabilities, capabilities],
      [CapabilityGate, gate],
      [ExecuteAction, executeAction],
      [GetAction, getAction],
      [ActionConnectors, connectors],
      // The sweeps and the agent's requests under one name, as the medium tests reach them.
      [
        ActionExecutor,
        new ActionExecutor(executeAction, getAction, releaseDueSends, failStaleActions),
      ],
      [ActionsRepository, actions],
      [ApprovalsService, approvalsService],
      [AuditRecordsClient, auditRecords],
      [ActivityPages, new ActivityPages(auditRecords, keys)],
      [AuditExports, new AuditExports(auditRecords, audit, keys, logger)],
      [RetentionRepository, retention],
      [ApplyRetention, applyRetention],
      [
        Housekeeping,
        new Housekeeping(
          sessions,
          flowsRepository,
          rateLimits,
          relay,
          () => approvalsService.expire(),
          () => releaseDueSends.execute(),
          () => failStaleActions.execute(),
          () => applyRetention.execute(),
          () => gate.flushRefusals(),
          () => recordReceipts.execute(),
          logger,
        ),
      ],
    ];
    return {
      module: AppModule,
      imports: [
        health,
        // Counted in Postgres: every replica sees the same windows.
        ThrottlerModule.forRoot({
          storage: new PostgresThrottlerStorage(rateLimits, logger),
          throttlers: [{ name: 'default', ttl: 60_000, limit: config.http.rateLimitPerMinute }],
        }),
      ],
      controllers: [
        ProbesController,
        SignInController,
        SessionController,
        TenantsController,
        ConnectionsController,
        MyDataController,
        TasksController,
        TaskEventsController,
        TaskReportsHandler,
        AgentSettingsController,
        PolicyController,
        PolicySimulationController,
        ActionsHandler,
        ApprovalsController,
        UndoController,
        ActivityController,
        IntegrityController,
        ExportsController,
        SiemController,
        RetentionController,
      ],
      providers: [
        ...values.map(([provide, useValue]) => ({ provide: provide as symbol, useValue })),
        {
          provide: ReadinessService,
          useFactory: (healthService: HealthService) =>
            new ReadinessService(healthService, runtime.client),
          inject: [HealthService],
        },
        // Guards run in this order: the rate limit first, then the edge guard.
        { provide: APP_GUARD, useClass: HttpThrottlerGuard },
        {
          provide: APP_GUARD,
          useFactory: (reflector: Reflector) =>
            new EdgeGuard(reflector, sessions, cookies, origin, logger),
          inject: [Reflector],
        },
      ],
    };
  }
}
