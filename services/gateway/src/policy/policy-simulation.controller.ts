import { Controller, Inject } from '@nestjs/common';
import { simulateTenantPolicy, type RouteResponse } from '@heroagent/contracts';
import { EdgeOf, inTenant, Route, type Edge } from '../http/route.js';
import { SimulatePolicy } from './simulate-policy.js';

/** Trying a policy on the tenant's recent actions before saving it: overseers, nothing changes. */
@Controller()
export class PolicySimulationController {
  constructor(@Inject(SimulatePolicy) private readonly simulate: SimulatePolicy) {}

  @Route(simulateTenantPolicy)
  async run(
    @EdgeOf() edge: Edge<typeof simulateTenantPolicy>,
  ): Promise<RouteResponse<typeof simulateTenantPolicy>> {
    return this.simulate.execute(inTenant(edge).tenant.id, edge.input.body);
  }
}
