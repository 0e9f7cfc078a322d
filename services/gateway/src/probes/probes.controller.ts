import { Controller, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { GATEWAY_ROUTES, healthz, openApiDocument, readyz } from '@heroagent/contracts';
import { buildOpenApi } from '../http/openapi.js';
import { Route } from '../http/route.js';
import { PUBLIC_ORIGIN, type PublicOrigin } from '../http/public-origin.js';
import { ReadinessService, type Readiness } from './readiness.service.js';

/** Liveness and readiness for load balancers, Kubernetes and `pnpm start`; the API description. */
@Controller()
export class ProbesController {
  private document: object | undefined;

  constructor(
    @Inject(ReadinessService) private readonly readiness: ReadinessService,
    @Inject(PUBLIC_ORIGIN) private readonly publicOrigin: PublicOrigin,
  ) {}

  /** The process is up and serving HTTP. */
  @Route(healthz)
  healthz(): { status: 'alive' } {
    return { status: 'alive' };
  }

  /** The gateway can do its job: 200 when ready, 503 otherwise, with what is down. */
  @Route(readyz)
  async readyz(@Res({ passthrough: true }) response: Response): Promise<Readiness> {
    const readiness = await this.readiness.check();
    response.status(readiness.status === 'ready' ? 200 : 503);
    response.setHeader('Cache-Control', 'no-store');
    return readiness;
  }

  /** This API as OpenAPI 3.1, generated from the route contracts it serves. */
  @Route(openApiDocument)
  openApi(): object {
    this.document ??= buildOpenApi(GATEWAY_ROUTES, this.publicOrigin.get());
    return this.document;
  }
}
