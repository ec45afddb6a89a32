/**
 * The shape of the single DynamoDB table, shared by the SST data stack, the local stack
 * and the tests so that all three create exactly the same table.
 *
 * Index design (one line each on why):
 * - primary (pk, sk): every entity's own item and its owned collections (members of an account).
 * - gsi1: "list under a parent, ordered by name" (children of an account, subtree entries of an ancestor).
 * - gsi2: "list under a parent, ordered by external reference" (children and subtree by CRM reference).
 * - gsi3: "secondary lookups" (invitations of an account, audit by actor).
 */
export const tableSchema = {
  partitionKey: "pk",
  sortKey: "sk",
  timeToLiveAttribute: "expiresAt",
  globalIndexes: {
    gsi1: { partitionKey: "gsi1pk", sortKey: "gsi1sk" },
    gsi2: { partitionKey: "gsi2pk", sortKey: "gsi2sk" },
    gsi3: { partitionKey: "gsi3pk", sortKey: "gsi3sk" },
  },
} as const;

export type GlobalIndexName = keyof typeof tableSchema.globalIndexes;
