/**
 * Faults injected in the SDK's HTTP layer of the stack's DynamoDB client (see test/faults.test.ts):
 * throttling answers and interrupted writes, answered without reaching DynamoDB; everything else
 * goes to the real handler. Shared by the fault and crash suites.
 */
import { Readable } from "node:stream";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { HttpResponse } from "@smithy/protocol-http";

type HandleArgs = Parameters<NodeHttpHandler["handle"]>;
type Handled = Awaited<ReturnType<NodeHttpHandler["handle"]>>;

/** DynamoDB operations that write. */
export const WRITE_OPS = new Set(["TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"]);
export const isWrite = (op: string) => WRITE_OPS.has(op);

const THROTTLE_TYPE = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException";
const THROTTLE_MESSAGE = "Throughput exceeds the current capacity (injected)";
const INTERRUPT_TYPE = "com.amazon.coral.validate#ValidationException";
const INTERRUPT_MESSAGE = "Interrupted before this write (injected)";

/** The operation of a DynamoDB request: `x-amz-target: DynamoDB_20120810.PutItem` → "PutItem". */
function operationOf(request: HandleArgs[0]): string {
  const header = Object.entries(request.headers).find(([k]) => k.toLowerCase() === "x-amz-target")?.[1] ?? "";
  return header.split(".").at(-1) ?? header;
}

/** A DynamoDB answer, shaped as the real handler returns one: the body is a Node Readable. */
function answer(statusCode: number, json: object): Handled {
  const body = Buffer.from(JSON.stringify(json), "utf8");
  return {
    response: new HttpResponse({
      statusCode,
      reason: statusCode === 200 ? "OK" : "Bad Request",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "content-length": String(body.length),
        "x-amzn-requestid": "INJECTED",
      },
      body: Readable.from([body]),
    }),
  };
}

/** A DynamoDB error answer. */
function errorAnswer(type: string, message: string, extra: object = {}): Handled {
  return answer(400, { __type: type, message, ...extra });
}

async function readBody(body: unknown): Promise<string> {
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString("utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

const CANCELLED_TYPE = "com.amazonaws.dynamodb.v20120810#TransactionCanceledException";

/**
 * Wraps the real HTTP handler: records every DynamoDB request's operation, and answers armed
 * faults itself without contacting DynamoDB.
 */
export class FaultInjectingHandler
  implements Pick<NodeHttpHandler, "handle" | "updateHttpClientConfig" | "httpHandlerConfigs" | "destroy">
{
  readonly #real = new NodeHttpHandler();
  /** Every request's operation, in order (retries included: each attempt is a request). */
  readonly log: string[] = [];
  /** Faults answered so far. */
  readonly injected: { op: string; fault: "throttle" | "interrupt" | "unprocessed" | "conflict" }[] = [];
  #throttle: { pattern: RegExp; remaining: number } | undefined;
  /** BatchGetItem / BatchWriteItem requests to answer half unprocessed. */
  #unprocessed: { pattern: RegExp; remaining: number } | undefined;
  /** TransactWriteItems requests to cancel with a TransactionConflict, without applying them. */
  #conflicts = 0;
  /** Writes to let through before the interrupted one. */
  #interrupt: { skip: number } | undefined;
  /** The real handler's response body type, seen once (the injected ones mirror it). */
  realBodyIsReadable: boolean | undefined;

  /** Throttles the next `count` requests whose operation matches `pattern`. */
  throttleNext(count: number, pattern: RegExp): void {
    this.#throttle = { pattern, remaining: count };
  }

  /** Fails the n-th write request from now (1: the next one) with a non-retryable error. */
  interruptWrite(nth = 1): void {
    this.#interrupt = { skip: nth - 1 };
  }

  /**
   * The next `count` batch requests whose operation (BatchGetItem, BatchWriteItem) matches `pattern`
   * reach DynamoDB with their first half only; the answer lists the second half as unprocessed, as
   * DynamoDB does when a batch exceeds the throughput it can take.
   */
  leaveUnprocessedNext(count: number, pattern: RegExp): void {
    this.#unprocessed = { pattern, remaining: count };
  }

  /** Cancels the next `count` TransactWriteItems with a TransactionConflict on their first item (nothing applied). */
  conflictNext(count: number): void {
    this.#conflicts = count;
  }

  /** Whether an armed fault has not fired yet. */
  get armed(): boolean {
    return (
      (this.#throttle?.remaining ?? 0) > 0 ||
      this.#interrupt !== undefined ||
      (this.#unprocessed?.remaining ?? 0) > 0 ||
      this.#conflicts > 0
    );
  }

  disarm(): void {
    this.#throttle = undefined;
    this.#interrupt = undefined;
    this.#unprocessed = undefined;
    this.#conflicts = 0;
  }

  /** Operations logged from index `mark` on. */
  since(mark: number): string[] {
    return this.log.slice(mark);
  }

  async handle(request: HandleArgs[0], options?: HandleArgs[1]): Promise<Handled> {
    const op = operationOf(request);
    this.log.push(op);
    if (this.#throttle && this.#throttle.remaining > 0 && this.#throttle.pattern.test(op)) {
      this.#throttle.remaining -= 1;
      this.injected.push({ op, fault: "throttle" });
      return errorAnswer(THROTTLE_TYPE, THROTTLE_MESSAGE);
    }
    if (op === "TransactWriteItems" && this.#conflicts > 0) {
      this.#conflicts -= 1;
      this.injected.push({ op, fault: "conflict" });
      const items = (JSON.parse(await readBody(request.body)) as { TransactItems: unknown[] }).TransactItems;
      return errorAnswer(CANCELLED_TYPE, "Transaction cancelled (injected) [TransactionConflict]", {
        CancellationReasons: items.map((_, i) =>
          i === 0 ? { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" } : { Code: "None" },
        ),
      });
    }
    if (
      (op === "BatchWriteItem" || op === "BatchGetItem") &&
      this.#unprocessed &&
      this.#unprocessed.remaining > 0 &&
      this.#unprocessed.pattern.test(op)
    ) {
      this.#unprocessed.remaining -= 1;
      this.injected.push({ op, fault: "unprocessed" });
      return this.#halfUnprocessed(op, request, options);
    }
    if (this.#interrupt && isWrite(op)) {
      if (this.#interrupt.skip === 0) {
        this.#interrupt = undefined;
        this.injected.push({ op, fault: "interrupt" });
        return errorAnswer(INTERRUPT_TYPE, INTERRUPT_MESSAGE);
      }
      this.#interrupt.skip -= 1;
    }
    const out = await this.#real.handle(request, options);
    this.realBodyIsReadable ??= out.response.body instanceof Readable;
    return out;
  }

  /** Sends the first half of a batch (rounded down) to DynamoDB and answers the rest as unprocessed. */
  async #halfUnprocessed(
    op: "BatchWriteItem" | "BatchGetItem",
    request: HandleArgs[0],
    options?: HandleArgs[1],
  ): Promise<Handled> {
    const input = JSON.parse(await readBody(request.body)) as { RequestItems: Record<string, unknown> };
    const [table, requested] = Object.entries(input.RequestItems)[0]!;
    const list = (op === "BatchWriteItem" ? requested : (requested as { Keys: unknown[] }).Keys) as unknown[];
    const half = Math.floor(list.length / 2);
    const left =
      op === "BatchWriteItem"
        ? { UnprocessedItems: { [table]: list.slice(half) } }
        : { UnprocessedKeys: { [table]: { ...(requested as object), Keys: list.slice(half) } } };
    // One item: none of it is processed (DynamoDB may answer so), and DynamoDB is not asked.
    if (half === 0) return answer(200, op === "BatchWriteItem" ? left : { Responses: { [table]: [] }, ...left });
    const sent =
      op === "BatchWriteItem" ? list.slice(0, half) : { ...(requested as object), Keys: list.slice(0, half) };
    const body = JSON.stringify({ ...input, RequestItems: { [table]: sent } });
    request.body = body;
    request.headers["content-length"] = String(Buffer.byteLength(body));
    const out = await this.#real.handle(request, options);
    const got = JSON.parse(await readBody(out.response.body)) as Record<string, unknown>;
    if (out.response.statusCode !== 200) return answer(out.response.statusCode, got);
    return answer(200, { ...got, ...left });
  }

  updateHttpClientConfig(...args: Parameters<NodeHttpHandler["updateHttpClientConfig"]>): void {
    this.#real.updateHttpClientConfig(...args);
  }

  httpHandlerConfigs(): ReturnType<NodeHttpHandler["httpHandlerConfigs"]> {
    return this.#real.httpHandlerConfigs();
  }

  destroy(): void {
    this.#real.destroy();
  }
}
