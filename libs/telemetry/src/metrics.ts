import { metrics, type Counter } from '@opentelemetry/api';

export type { Counter };

/**
 * A counter on HeroAgent's meter. Until a MeterProvider is registered (an OTLP metrics exporter
 * configured) it counts nothing, so callers that must report a figure keep their own tally too.
 */
export function heroagentCounter(name: string, description: string): Counter {
  return metrics.getMeter('heroagent').createCounter(name, { description });
}
