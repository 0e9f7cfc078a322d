import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ReadinessService, type Readiness } from './readiness.service.js';

/** Liveness and readiness for load balancers, Kubernetes and `pnpm start`. */
@Controller()
export class ProbesController {
  constructor(@Inject(ReadinessService) private readonly readiness: ReadinessService) {}

  /** The process is up and serving HTTP. */
  @Get('healthz')
  healthz(): { status: 'alive' } {
    return { status: 'alive' };
  }

  /** The gateway can do its job: 200 when ready, 503 otherwise, with what is down. */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) response: Response): Promise<Readiness> {
    const readiness = await this.readiness.check();
    response.status(readiness.status === 'ready' ? 200 : 503);
    response.setHeader('Cache-Control', 'no-store');
    return readiness;
  }
}
