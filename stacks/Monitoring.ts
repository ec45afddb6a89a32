import { Duration } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import type { IMetric } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { Operation } from "aws-cdk-lib/aws-dynamodb";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import { use } from "sst/constructs";
import type { StackContext } from "sst/constructs";
import { Api } from "./Api.js";
import { Data } from "./Data.js";
import { JOBS, Jobs } from "./Jobs.js";
import { DELIVERY_MAX_RECEIVE_COUNT, Webhooks } from "./Webhooks.js";
import { METRICS_NAMESPACE, SERVICE } from "../infra/telemetry.js";

/** Alarm thresholds, in one place. */
export const ALARMS = {
  /** Any message in a dead-letter queue is work that failed five times: someone must look. */
  deadLetters: 1,
  /** Share of API requests answered 5xx over 5 minutes, in percent, once there are enough requests to judge. */
  serverErrorPercent: 1,
  serverErrorMinRequests: 20,
  /** DynamoDB requests throttled (after the SDK's own retries) in 5 minutes. */
  tableThrottles: 1,
  /** Lambda invocations refused for lack of concurrency in 5 minutes. */
  lambdaThrottles: 1,
  /** After-commit effects that failed (an invitation mail that could not be queued) in 5 minutes. */
  effectsFailed: 1,
} as const;

const FIVE_MINUTES = Duration.minutes(5);

/**
 * Alarms, sent to one SNS topic (ALARM_EMAIL subscribes an address at deploy): dead-letter queue
 * depth of every queue, the API's 5xx rate, failed after-commit effects, DynamoDB throttling and Lambda throttling.
 */
export function Monitoring({ stack }: StackContext) {
  const { table } = use(Data);
  const { api, graphql, documents } = use(Api);
  const jobs = use(Jobs);
  const webhooks = use(Webhooks);

  const topic = new Topic(stack, "alarms");
  if (process.env.ALARM_EMAIL) topic.addSubscription(new EmailSubscription(process.env.ALARM_EMAIL));
  const action = new SnsAction(topic);
  const alarm = (id: string, metric: IMetric, threshold: number, description: string) => {
    const a = new Alarm(stack, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    a.addAlarmAction(action);
    return a;
  };

  const dlqs = {
    ...Object.fromEntries(JOBS.map((job) => [job, jobs.queues[job].dlq])),
    mail: jobs.mail.dlq,
    delivery: webhooks.dlq,
  };
  for (const [name, dlq] of Object.entries(dlqs)) {
    alarm(
      `${name}DeadLetters`,
      dlq.cdk.queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: "Maximum" }),
      ALARMS.deadLetters,
      `Messages in the ${name} dead-letter queue: work that failed ${name === "delivery" ? DELIVERY_MAX_RECEIVE_COUNT : 5} times. Inspect, fix, redrive.`,
    );
  }

  alarm(
    "streamFailures",
    webhooks.streamFailures.cdk.queue.metricApproximateNumberOfMessagesVisible({
      period: FIVE_MINUTES,
      statistic: "Maximum",
    }),
    ALARMS.deadLetters,
    "A change-stream batch the consumer failed 10 times: its events and webhooks are missing. Its records stay in the stream for 24 hours: fix, then replay them.",
  );

  const apiMetric = (metricName: string) =>
    new Metric({
      namespace: "AWS/ApiGateway",
      metricName,
      dimensionsMap: { ApiId: api.httpApiId, Stage: "$default" },
      statistic: "Sum",
      period: FIVE_MINUTES,
    });
  alarm(
    "api5xxRate",
    new MathExpression({
      expression: `IF(requests >= ${ALARMS.serverErrorMinRequests}, 100 * errors / requests, 0)`,
      usingMetrics: { errors: apiMetric("5xx"), requests: apiMetric("Count") },
      period: FIVE_MINUTES,
      label: "5xx %",
    }),
    ALARMS.serverErrorPercent,
    `More than ${ALARMS.serverErrorPercent}% of API requests answered 5xx in 5 minutes.`,
  );

  // The application's own EMF metric (infra/telemetry.ts): Powertools' namespace and service dimension.
  alarm(
    "effectsFailed",
    new Metric({
      namespace: METRICS_NAMESPACE,
      metricName: "EffectsFailed",
      dimensionsMap: { service: SERVICE },
      statistic: "Sum",
      period: FIVE_MINUTES,
    }),
    ALARMS.effectsFailed,
    "A change committed but its after-commit effect failed (an invitation mail not queued): the invitee was not mailed. Find the account in the logs by request id; inviting the person again re-sends.",
  );

  // One series per operation, each FILLed with 0: DynamoDB publishes ThrottledRequests only for
  // operations that were throttled, and a plain sum has no value when any term is missing.
  const operations = [
    Operation.GET_ITEM,
    Operation.BATCH_GET_ITEM,
    Operation.QUERY,
    Operation.PUT_ITEM,
    Operation.UPDATE_ITEM,
    Operation.DELETE_ITEM,
    Operation.BATCH_WRITE_ITEM,
    Operation.TRANSACT_WRITE_ITEMS,
  ];
  const throttled = Object.fromEntries(
    operations.map((op, i) => [
      `t${i}`,
      table.cdk.table.metric("ThrottledRequests", {
        dimensionsMap: { TableName: table.tableName, Operation: op },
        statistic: "Sum",
        period: FIVE_MINUTES,
      }),
    ]),
  );
  alarm(
    "tableThrottles",
    new MathExpression({
      expression: Object.keys(throttled)
        .map((k) => `FILL(${k}, 0)`)
        .join(" + "),
      usingMetrics: throttled,
      period: FIVE_MINUTES,
      label: "throttled requests",
    }),
    ALARMS.tableThrottles,
    "DynamoDB throttled requests after the SDK's retries.",
  );

  const functions = {
    graphql,
    documents,
    scheduler: jobs.scheduler,
    mailWorker: jobs.mail.worker,
    webhookWorker: webhooks.worker,
    streamConsumer: webhooks.consumer,
    ...Object.fromEntries(JOBS.map((job) => [`${job}Worker`, jobs.workers[job]])),
  };
  for (const [name, fn] of Object.entries(functions)) {
    alarm(
      `${name}Throttles`,
      fn.metricThrottles({ period: FIVE_MINUTES, statistic: "Sum" }),
      ALARMS.lambdaThrottles,
      `The ${name} function was throttled (concurrency).`,
    );
  }

  stack.addOutputs({ AlarmTopicArn: topic.topicArn });
  return { topic };
}
