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

/** A DynamoDB error answer, shaped as the real handler returns one: the body is a Node Readable. */
function errorAnswer(type: string, message: string): Handled {
  const body = Buffer.from(JSON.stringify({ __type: type, message }), "utf8");
  return {
    response: new HttpResponse({
      statusCode: 400,
      reason: "Bad Request",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "content-length": String(body.length),
        "x-amzn-requestid": "INJECTED",
      },
      body: Readable.from([body]),
    }),
  };
}

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
  readonly injected: { op: string; fault: "throttle" | "interrupt" }[] = [];
  #throttle: { pattern: RegExp; remaining: number } | undefined;
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

  /** Whether an armed fault has not fired yet. */
  get armed(): boolean {
    return (this.#throttle?.remaining ?? 0) > 0 || this.#interrupt !== undefined;
  }

  disarm(): void {
    this.#throttle = undefined;
    this.#interrupt = undefined;
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
