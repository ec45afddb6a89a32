/**
 * Reads an SST secret bound to this function (`Config.Secret` in the stacks: SST sets
 * `SST_Secret_value_<NAME>=__FETCH_FROM_SSM__` and grants ssm:GetParameters on its two paths) from
 * SSM, decrypted. SST's own reader (`sst/node/config`) fetches every bound value with a top-level
 * await, which a bundle runs at module load; this one loads the SSM client only when asked, so a
 * cold start that does not need the secret does not pay for it. Undefined when the secret is not bound.
 */
export async function sstSecret(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env[`SST_Secret_value_${name}`] !== "__FETCH_FROM_SSM__") return undefined;
  const { GetParametersCommand, SSMClient } = await import("@aws-sdk/client-ssm");
  const client = new SSMClient({
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    // The SDK's standard service-specific endpoint variable, passed explicitly as `env` is ours.
    ...(env.AWS_ENDPOINT_URL_SSM ? { endpoint: env.AWS_ENDPOINT_URL_SSM } : {}),
  });
  // The stage's value, else the app-wide fallback (`sst secrets set --fallback`), as SST resolves them.
  const paths = [
    `${env.SST_SSM_PREFIX ?? ""}Secret/${name}/value`,
    `/sst/${env.SST_APP ?? ""}/.fallback/Secret/${name}/value`,
  ];
  try {
    const out = await client.send(new GetParametersCommand({ Names: paths, WithDecryption: true }));
    for (const path of paths) {
      const value = out.Parameters?.find((p) => p.Name === path)?.Value;
      if (value !== undefined) return value;
    }
    throw new Error(`The secret ${name} is not set for this stage (npx sst secrets set ${name} ...)`);
  } finally {
    client.destroy();
  }
}
