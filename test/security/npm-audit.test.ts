/**
 * `npm audit --omit=dev`: no high or critical advisory in what the packages need at run time. The audit
 * asks the registry's advisory endpoint; when that cannot be reached (offline, a mirror without it),
 * the test is skipped and says why, instead of passing or failing on no information.
 */
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runToEnd } from '../support/child-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface AuditReport {
  metadata?: { vulnerabilities?: Record<string, number> };
  vulnerabilities?: Record<string, { severity: string; via: unknown[] }>;
  /** npm's error body when the endpoint failed. */
  message?: string;
  error?: unknown;
  statusCode?: number;
}

function audit(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  return runToEnd(npm, ['audit', '--omit=dev', '--json'], { cwd: ROOT, timeoutMs: 60_000 });
}

it('npm audit --omit=dev: no high or critical advisory', async (ctx) => {
  const { code, stdout, stderr } = await audit();
  let report: AuditReport;
  try {
    report = JSON.parse(stdout) as AuditReport;
  } catch {
    report = {
      message: `npm audit printed no JSON (exit ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`,
    };
  }
  const counts = report.metadata?.vulnerabilities;
  if (counts === undefined) {
    const reason = `npm audit could not reach the registry's advisory endpoint, so nothing was checked: ${
      report.message ?? stderr.trim().split('\n').at(-1) ?? `exit ${code}`
    }`;
    console.warn(`SKIPPED: ${reason}`);
    ctx.skip(reason);
    return;
  }
  const serious = Object.entries(report.vulnerabilities ?? {})
    .filter(([, v]) => v.severity === 'high' || v.severity === 'critical')
    .map(([name, v]) => `${name} (${v.severity})`);
  expect(serious).toEqual([]);
  expect((counts.high ?? 0) + (counts.critical ?? 0)).toBe(0);
}, 90_000);
