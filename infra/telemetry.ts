import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

/** Business and health metrics, published as CloudWatch EMF (namespace ChannelPartnerApi). */
export type MetricName =
  | "Requests"
  | "Errors"
  | "ServerErrors"
  | "Throttled"
  | "RateLimited"
  | "OrdersPlaced"
  | "InvitationsSent"
  | "ActivationsSucceeded"
  | "ActivationsRefused"
  | "InvoicesIssued"
  | "JobsProcessed"
  | "JobsFailed"
  | "MailsSent"
  | "MailsFailed"
  | "EffectsFailed";

/** What may be logged: identifiers of operations, codes, counts and durations. Never a token, a code, an e-mail or a name. */
export type LogFields = Record<string, string | number | boolean | readonly string[] | undefined>;

/** The observability port: structured JSON logs (Powertools Logger) and metrics (Powertools Metrics, EMF). */
export interface Telemetry {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  count(name: MetricName, value?: number): void;
  /** Keys added to every log line until `endInvocation` (Lambda: one invocation at a time per container). */
  beginInvocation(keys: { requestId?: string; correlationId?: string; lambdaContext?: Context }): void;
  /** Publishes the invocation's metrics (one EMF line) and drops its log keys. */
  endInvocation(): void;
}

export const SERVICE = "channel-partner-api";
export const METRICS_NAMESPACE = "ChannelPartnerApi";

/** The Powertools implementation (Lambda, and `npm start` for its logs). */
export function powertoolsTelemetry(opts: { metrics?: boolean } = {}): Telemetry {
  const logger = new Logger({ serviceName: SERVICE });
  const metrics =
    opts.metrics === false ? undefined : new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE });
  const clean = (fields: LogFields = {}) =>
    Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  let counted = false;
  return {
    info: (message, fields) => logger.info(message, clean(fields)),
    warn: (message, fields) => logger.warn(message, clean(fields)),
    error: (message, fields) => logger.error(message, clean(fields)),
    count: (name, value = 1) => {
      metrics?.addMetric(name, MetricUnit.Count, value);
      counted = true;
    },
    beginInvocation: ({ requestId, correlationId, lambdaContext }) => {
      // Function name, version, memory, AWS request id and cold start on every line.
      if (lambdaContext) logger.addContext(lambdaContext);
      logger.appendKeys(clean({ requestId, correlationId }));
      if (correlationId) logger.setCorrelationId(correlationId);
    },
    endInvocation: () => {
      logger.resetKeys();
      // Only when something was counted (Powertools warns in plain text on an empty flush).
      if (counted) metrics?.publishStoredMetrics();
      counted = false;
    },
  };
}

/** Telemetry that goes nowhere (tests and tools that do not observe). */
export const silentTelemetry: Telemetry = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  count: () => undefined,
  beginInvocation: () => undefined,
  endInvocation: () => undefined,
};

/** `Deps.effectFailed` over the telemetry: logged by error name and frames (never the message), counted. */
export function effectFailureReporter(t: Telemetry): (err: unknown) => void {
  return (err) => {
    t.error("after-commit effect failed", {
      errorName: err instanceof Error ? err.name : typeof err,
      frames: framesOf(err),
    });
    t.count("EffectsFailed");
  };
}

/** A stack trace without its first line (the message, which may quote input): names and frames only. */
export function framesOf(err: unknown): string | undefined {
  if (!(err instanceof Error) || !err.stack) return undefined;
  return err.stack
    .split("\n")
    .filter((l) => /^\s+at /.test(l))
    .slice(0, 12)
    .join("\n");
}

/** A correlation id a client may send (`x-correlation-id`): short and plain, or ignored. */
export function correlationIdOf(header: string | null | undefined): string | undefined {
  return header && /^[A-Za-z0-9._:-]{1,64}$/.test(header) ? header : undefined;
}

/**
 * Runs one queue record's work with a log line and metrics: JobsProcessed or JobsFailed, plus the
 * outcome's own metric (e.g. InvoicesIssued). Failures are logged by error name and frames only.
 */
export async function observeRecord(
  telemetry: Telemetry,
  record: { readonly messageId: string; readonly attributes?: { readonly ApproximateReceiveCount?: string } },
  queue: string,
  run: () => Promise<{ readonly outcome: string; readonly metric?: MetricName } | undefined>,
): Promise<void> {
  const started = performance.now();
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1);
  try {
    const r = await run();
    telemetry.count("JobsProcessed");
    if (r?.metric) telemetry.count(r.metric);
    telemetry.info("record processed", {
      queue,
      messageId: record.messageId,
      receiveCount,
      outcome: r?.outcome ?? "done",
      durationMs: Math.round(performance.now() - started),
    });
  } catch (err) {
    telemetry.count("JobsFailed");
    telemetry.error("record failed", {
      queue,
      messageId: record.messageId,
      receiveCount,
      errorName: err instanceof Error ? err.name : typeof err,
      frames: framesOf(err),
    });
    throw err;
  }
}
