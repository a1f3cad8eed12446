/**
 * How `npm start` runs the two stand-in instances (issue 3): the sandbox without OrgBAC and the
 * production one with OrgBAC. Returns the command and environment for each; the orchestrator
 * supervises them like its other children.
 */
export interface StandinProcessSpec {
  name: 'aidbox-sandbox' | 'aidbox-production';
  args: string[];
  env: Record<string, string>;
  url: string;
}

export function standinProcesses(options: {
  sandboxPort?: number;
  productionPort?: number;
  rootClientSecret: string;
  appMode?: 'development' | 'production';
}): [StandinProcessSpec, StandinProcessSpec] {
  const args = ['--import', 'tsx', 'aidbox-standin/main.ts'];
  const common = {
    STANDIN_HOST: '127.0.0.1',
    STANDIN_ROOT_CLIENT_ID: 'root',
    STANDIN_ROOT_CLIENT_SECRET: options.rootClientSecret,
    STANDIN_SAMPLE_DATA: 'true',
    STANDIN_APP_MODE: options.appMode ?? 'development',
  };
  const sandboxPort = options.sandboxPort ?? 8090;
  const productionPort = options.productionPort ?? 8080;
  return [
    {
      name: 'aidbox-sandbox',
      args,
      env: { ...common, STANDIN_PORT: String(sandboxPort), STANDIN_ORGBAC: 'false' },
      url: `http://localhost:${sandboxPort}`,
    },
    {
      name: 'aidbox-production',
      args,
      env: { ...common, STANDIN_PORT: String(productionPort), STANDIN_ORGBAC: 'true' },
      url: `http://localhost:${productionPort}`,
    },
  ];
}
