/**
 * `--tls`, `--tls-cert`, `--tls-key`, `--tls-ca-file` of `sandbox` and `dev`: the sandbox serves https
 * and `wss://` (DingTalk's gateway is wss-only for the Java SDK). With `--tls` a throwaway CA and server
 * certificate are made at start and the CA is written to a file whose path is printed, so clients can
 * trust it with `NODE_EXTRA_CA_CERTS`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createSelfSignedTls } from '@dingtalk-skills/sandbox';
import { DingTalkSkillsError, ErrorCode } from '@dingtalk-skills/sdk';
import { Option } from 'commander';

export interface TlsFlags {
  tls?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsCaFile?: string;
}

/** Where `--tls` writes the CA unless `--tls-ca-file` says otherwise. */
export const DEFAULT_CA_FILE = '.dingtalk-skills/sandbox-ca.pem';

/** The commander options (added to `sandbox` and `dev` in bin.ts). */
export function tlsOptions(): Option[] {
  return [
    new Option(
      '--tls',
      'serve https and wss:// with a certificate made at start (its CA is written to a file)',
    ),
    new Option(
      '--tls-cert <file>',
      'serve https and wss:// with this certificate chain (PEM); with --tls-key',
    ),
    new Option('--tls-key <file>', 'the private key (PEM) of --tls-cert'),
    new Option('--tls-ca-file <file>', `where --tls writes its CA certificate (default ${DEFAULT_CA_FILE})`),
  ];
}

/** What the sandbox gets, and the CA file a client should trust (when one was made). */
export interface ResolvedTls {
  tls?: { cert: string; key: string };
  caFile?: string;
}

function config(message: string): DingTalkSkillsError {
  return new DingTalkSkillsError(ErrorCode.Config, message);
}

/** Reads `--tls-cert/--tls-key`, or makes a certificate for `--tls` and writes its CA. */
export function resolveTls(flags: TlsFlags, host: string): ResolvedTls {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined))
    throw config('--tls-cert and --tls-key go together');
  if (flags.tlsCert !== undefined && flags.tlsKey !== undefined) {
    try {
      return {
        tls: { cert: readFileSync(flags.tlsCert, 'utf8'), key: readFileSync(flags.tlsKey, 'utf8') },
        // With files of one's own, --tls-ca-file only names the CA to print.
        ...(flags.tlsCaFile !== undefined ? { caFile: resolve(flags.tlsCaFile) } : {}),
      };
    } catch (err) {
      throw config(`cannot read --tls-cert/--tls-key: ${(err as Error).message}`);
    }
  }
  if (!flags.tls) return {};
  const hosts = ['localhost', '127.0.0.1', '::1'];
  if (!['0.0.0.0', '::', ...hosts].includes(host)) hosts.push(host);
  const made = createSelfSignedTls(hosts);
  const caFile = resolve(flags.tlsCaFile ?? DEFAULT_CA_FILE);
  mkdirSync(dirname(caFile), { recursive: true });
  writeFileSync(caFile, made.ca);
  return { tls: { cert: made.cert, key: made.key }, caFile };
}

/** The lines printed about TLS. */
export function tlsLines(resolved: ResolvedTls): string[] {
  if (!resolved.tls) return [];
  if (!resolved.caFile) return ['  TLS              https and wss:// with the certificate of --tls-cert'];
  return [`  TLS CA           ${resolved.caFile}  (trust it: NODE_EXTRA_CA_CERTS=${resolved.caFile})`];
}

/**
 * `dev --tls`: the app runs in this process and must trust the CA, which Node reads only at start
 * (`NODE_EXTRA_CA_CERTS`). So the certificate is made here, written to a private folder, and the
 * same command runs again as a child with `--tls-cert/--tls-key` and `NODE_EXTRA_CA_CERTS` set;
 * signals are passed on and its exit code is ours. Returns false when no re-run is needed.
 */
export function rerunTrustingCa(flags: TlsFlags, host: string): boolean {
  if (!flags.tls || flags.tlsCert !== undefined) return false;
  const resolved = resolveTls(flags, host);
  const dir = mkdtempSync(join(tmpdir(), 'dingtalk-skills-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  writeFileSync(certFile, resolved.tls?.cert ?? '', { mode: 0o600 });
  writeFileSync(keyFile, resolved.tls?.key ?? '', { mode: 0o600 });
  const args: string[] = [];
  const argv = process.argv.slice(1);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--tls' || a.startsWith('--tls-ca-file=')) continue;
    if (a === '--tls-ca-file') {
      i++;
      continue;
    }
    args.push(a);
  }
  const caFile = resolved.caFile ?? '';
  const extra = ['--tls-cert', certFile, '--tls-key', keyFile, '--tls-ca-file', caFile];
  const child = spawn(process.execPath, [...process.execArgv, ...args, ...extra], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
  });
  child.on('error', (err) => {
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`dingtalk-skills: could not run again trusting the CA: ${err.message}\n`);
    process.exitCode = 1;
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => {
    rmSync(dir, { recursive: true, force: true });
    process.exitCode = code ?? (signal ? 1 : 0);
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  });
  return true;
}
