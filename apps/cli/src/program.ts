/**
 * The `zks` command tree: global options (where the APIs are, the token,
 * `--json`) and one command per resource. Defaults come from the environment
 * (`ZKS_URL`, `ZKS_REGISTRY_URL`, `ZKS_TOKEN`), then the `npm start` ports.
 */
import { Command, Option } from 'commander';
import { auditCommand } from './commands/audit';
import { clusterCommand } from './commands/cluster';
import { jobsCommand } from './commands/jobs';
import { tasksCommand } from './commands/tasks';
import { webhooksCommand } from './commands/webhooks';
import { parseUrl } from './parsers';

export const DEFAULT_SCHEDULER_URL = 'http://localhost:3000';
export const DEFAULT_REGISTRY_URL = 'http://localhost:3001';

export interface ProgramIo {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

export function buildProgram(io: ProgramIo): Command {
  const program = new Command('zks')
    .description('command-line client of a zk-scheduler cluster')
    .addOption(
      new Option('--url <url>', 'scheduler API')
        .env('ZKS_URL')
        .default(DEFAULT_SCHEDULER_URL)
        .argParser(parseUrl),
    )
    .addOption(
      new Option('--registry-url <url>', 'registry API (cluster, audit)')
        .env('ZKS_REGISTRY_URL')
        .default(DEFAULT_REGISTRY_URL)
        .argParser(parseUrl),
    )
    .addOption(new Option('--token <token>', 'bearer token for the APIs').env('ZKS_TOKEN'))
    .option('--json', 'print the API’s JSON instead of tables', false)
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 the operation failed (e.g. the watched task failed), 2 usage error,
3 not found, 4 rejected by the server, 5 server unreachable or failing.

Examples:
  zks cluster
  zks tasks submit --type sleep --payload '{"ms":500}' --watch
  zks jobs create --name nightly --type noop --schedule '0 3 * * *' --timezone Europe/Paris
  zks webhooks create --endpoint https://hooks.example.com/zks --event task.failed
  zks audit --task <id>`,
    )
    .configureOutput({ writeOut: io.writeOut, writeErr: io.writeErr });

  for (const command of [
    jobsCommand(),
    tasksCommand(),
    webhooksCommand(),
    auditCommand(),
    clusterCommand(),
  ]) {
    program.addCommand(command);
  }
  return program;
}
