import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';

/**
 * The per-address rate limit, for HTTP only. NATS requests come from services under their own
 * NATS users and permissions (the agent's actions have their own limits: the capability's and
 * the policy's rate conditions); throttling them here would put every agent in one bucket.
 */
@Injectable()
export class HttpThrottlerGuard extends ThrottlerGuard {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    return super.canActivate(context);
  }
}
