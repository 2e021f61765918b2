import type { StreamClient } from '@dingtalk-skills/sdk';

/**
 * Prints one human line when the app's Stream connection failed `after` times in a row (each failure is
 * also logged, with its cause: ECONNREFUSED, DNS, TLS, ...). The client keeps retrying; the line is
 * printed again only after a connection succeeded and then failed `after` times once more.
 */
export function watchConnectFailures(
  stream: StreamClient,
  apiBase: string,
  write: (line: string) => void,
  after = 3,
): () => void {
  let failures = 0;
  let told = false;
  const onError = (err: Error) => {
    failures++;
    if (failures < after || told) return;
    told = true;
    write(
      `dingtalk-skills: cannot connect to DingTalk at ${apiBase} (${failures} attempts in a row): ${err.message}. Still retrying; check DINGTALK_API_BASE and the network, or stop with Ctrl+C.\n`,
    );
  };
  const onConnected = () => {
    failures = 0;
    told = false;
  };
  stream.on('error', onError);
  stream.on('connected', onConnected);
  return () => {
    stream.off('error', onError);
    stream.off('connected', onConnected);
  };
}
