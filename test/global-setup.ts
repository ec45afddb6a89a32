import type { TestProject } from "vitest/node";
import { startDynamoLocal } from "../local/dynamodb.js";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

/**
 * One DynamoDB Local for the whole run; every test file makes its own table in it. Its database is a
 * scratch file with the stream record indexes (local/dynamodb.ts): every table has a stream.
 */
export default async function setup(project: TestProject) {
  const dynamo = await startDynamoLocal({ scratch: true });
  project.provide("dynamoEndpoint", dynamo.endpoint);
  return async () => {
    await dynamo.stop();
  };
}
