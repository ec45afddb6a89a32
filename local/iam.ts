import { AsyncLocalStorage } from "node:async_hooks";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Mailer } from "../infra/mail.js";
import { GRANTS } from "../stacks/grants.js";
import type { FunctionRole, QueueName, Grant } from "../stacks/grants.js";

/**
 * IAM, locally. DynamoDB Local and fauxqs have none, so a request the deployed role refuses (a batch
 * write the role lacks, a write outside the scheduler's partition, a message to a queue it may not
 * send to) would only show in AWS, as AccessDenied on every call of that path. The local stack runs
 * each piece of work as the function that does it in AWS (`asFunction`: the API's routes, the
 * workers, the scheduler, the stream consumer), and its DynamoDB and SQS clients check every request
 * against that function's grant (stacks/grants.ts, from which the stacks build the real policies),
 * item by item as IAM does for transactions. Requests made outside any function (test setup, dev
 * tools, the local event source mappings) are not checked.
 */
const running = new AsyncLocalStorage<FunctionRole>();

/** Runs `work` as the function `role`: its DynamoDB requests are held to that role's grant. */
export function asFunction<T>(role: FunctionRole, work: () => T): T {
  return running.run(role, work);
}

/** What DynamoDB answers a request the caller's role does not allow. */
export class AccessDenied extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AccessDeniedException";
  }
}

/** One item-level authorisation a request needs: the IAM action, the index if any, the item's partition key. */
export interface Authorisation {
  readonly action: string;
  readonly index?: string;
  readonly pk?: string;
}

type Input = Record<string, unknown>;

const pkOf = (key: unknown): string | undefined => {
  const pk = (key as { pk?: unknown } | undefined)?.pk;
  if (typeof pk === "string") return pk;
  return (pk as { S?: string } | undefined)?.S;
};

/**
 * The authorisations a DynamoDB command needs, by its name (document or low-level client) and input.
 * IAM checks a transaction item by item (Put/Update/Delete/ConditionCheckItem, GetItem); a batch
 * needs its batch action.
 */
export function authorisationsOf(command: string, input: Input): Authorisation[] {
  const name = command.replace(/Command$/, "").replace(/Item(s)?$/, "");
  const items = (list: unknown) => (Array.isArray(list) ? (list as Input[]) : []);
  switch (name) {
    case "Get":
      return [{ action: "dynamodb:GetItem", pk: pkOf(input.Key) }];
    case "Put":
      return [{ action: "dynamodb:PutItem", pk: pkOf(input.Item) }];
    case "Update":
      return [{ action: "dynamodb:UpdateItem", pk: pkOf(input.Key) }];
    case "Delete":
      return [{ action: "dynamodb:DeleteItem", pk: pkOf(input.Key) }];
    case "Query":
      return [{ action: "dynamodb:Query", ...(typeof input.IndexName === "string" ? { index: input.IndexName } : {}) }];
    case "TransactGet":
      return items(input.TransactItems).map((i) => ({ action: "dynamodb:GetItem", pk: pkOf((i.Get as Input).Key) }));
    case "TransactWrite":
      return items(input.TransactItems).map((i) => {
        if (i.Put) return { action: "dynamodb:PutItem", pk: pkOf((i.Put as Input).Item) };
        if (i.Update) return { action: "dynamodb:UpdateItem", pk: pkOf((i.Update as Input).Key) };
        if (i.Delete) return { action: "dynamodb:DeleteItem", pk: pkOf((i.Delete as Input).Key) };
        return { action: "dynamodb:ConditionCheckItem", pk: pkOf((i.ConditionCheck as Input).Key) };
      });
    default:
      // BatchGet → BatchGetItem, BatchWrite → BatchWriteItem, Scan, ExecuteStatement, DescribeTable…
      return [{ action: `dynamodb:${/^Batch/.test(name) ? `${name}Item` : name}` }];
  }
}

/** Whether `grant` allows `a`, as the stacks' policies do. */
export function allows(grant: Grant, a: Authorisation): boolean {
  if (a.index !== undefined) return grant.index.includes(a.action);
  if (grant.table.includes(a.action)) return true;
  const partitions = grant.partitions;
  return !!partitions && partitions.actions.includes(a.action) && a.pk !== undefined && partitions.keys.includes(a.pk);
}

const refusals: string[] = [];
/** Refusals kept for `takeRefusals` (a long `npm start` session does not grow without bound). */
const MAX_REFUSALS = 1000;

/** Records a refusal and the error DynamoDB, SQS or SES would answer it with. */
function refuse(refusal: string): AccessDenied {
  if (refusals.length < MAX_REFUSALS) refusals.push(refusal);
  return new AccessDenied(refusal);
}

/** The requests refused since the last call ("role: action"), for a test run to fail on any, even one a retry hid. */
export function takeRefusals(): string[] {
  return refusals.splice(0);
}

/** Makes `client` refuse, with AccessDenied and before sending, any request its running function's role does not allow. */
export function enforceGrants(client: DynamoDBDocumentClient): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const role = running.getStore();
      if (role !== undefined) {
        for (const a of authorisationsOf(context.commandName ?? "", args.input as Input)) {
          // The partition key is not named: it may hold an e-mail address.
          if (!allows(GRANTS[role], a))
            throw refuse(`the ${role} role may not perform ${a.action}${a.index ? " on an index" : ""}`);
        }
      }
      return next(args);
    },
    { step: "initialize", name: "enforceGrants", override: true },
  );
}

/**
 * Makes `sqs` refuse, with AccessDenied and before sending, a message (SendMessage, SendMessageBatch)
 * to a queue the running function's role may not send to. `queueOf` names a queue URL's queue.
 */
export function enforceSends(sqs: SQSClient, queueOf: (url: string) => QueueName | undefined): void {
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const role = running.getStore();
      const url = (args.input as { QueueUrl?: unknown }).QueueUrl;
      if (
        role !== undefined &&
        /^SendMessage(Batch)?Command$/.test(context.commandName ?? "") &&
        typeof url === "string"
      ) {
        const queue = queueOf(url);
        if (queue === undefined || !(GRANTS[role].sends as readonly string[]).includes(queue))
          throw refuse(`the ${role} role may not perform sqs:SendMessage on the ${queue ?? "unknown"} queue`);
      }
      return next(args);
    },
    { step: "initialize", name: "enforceSends", override: true },
  );
}

/**
 * `ses` (the local SES, the outbox) held to the running function's grant: a function whose role may
 * not send through SES (the API, the stream consumer, the webhook worker: they queue their mails) is
 * refused, as SES would refuse it.
 */
export function enforceMail(ses: Mailer): Mailer {
  return {
    send: (message) => {
      const role = running.getStore();
      const grant: Grant | undefined = role === undefined ? undefined : GRANTS[role];
      if (role !== undefined && !grant?.mails)
        return Promise.reject(refuse(`the ${role} role may not perform ses:SendEmail`));
      return ses.send(message);
    },
  };
}
