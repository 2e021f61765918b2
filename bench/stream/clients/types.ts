/** What each benchmarked client module exports: `start(config)` connects and answers the workload. */
export interface BenchClientConfig {
  /** `http://127.0.0.1:<port>` of the bench gateway. */
  apiBase: string;
  clientId: string;
  clientSecret: string;
}

export interface RunningClient {
  stop(): Promise<void>;
}

export type StartClient = (config: BenchClientConfig) => Promise<RunningClient>;

/** The names of the benchmarked clients, in the order they run. */
export const CLIENT_NAMES = ['floor', 'official', 'ours'] as const;
export type ClientName = (typeof CLIENT_NAMES)[number];
