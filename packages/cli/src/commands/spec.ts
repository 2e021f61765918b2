import { generateSpecYaml } from '@dingtalk-skills/sdk';
import { loadApp } from '../load-app.js';

/** `dingtalk-skills spec [app]`: prints the OpenAPI 3.0 YAML to register in the DingTalk console. */
export async function specCommand(
  target: string,
  options: { protocol: 'stream' | 'http'; serverUrl?: string },
) {
  const { app } = await loadApp(target);
  const yaml = generateSpecYaml(app.skills, {
    title: app.name,
    ...(app.version ? { version: app.version } : {}),
    ...(app.description ? { description: app.description } : {}),
    protocol: options.protocol,
    ...(options.serverUrl ? { serverUrl: options.serverUrl } : {}),
    onWarning: (issue) => process.stderr.write(`warning: ${issue.message}\n`),
  });
  process.stdout.write(yaml);
}
