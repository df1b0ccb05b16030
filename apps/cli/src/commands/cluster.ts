/** `zks cluster`: who leads, which members are live, their load (registry /v1/cluster). */
import { Command } from 'commander';
import type { ClusterView } from '@app/contracts/dto/registry-api';
import { contextOf, printJson } from '../context';
import { clusterView } from '../views';

export function clusterCommand(): Command {
  return new Command('cluster')
    .description('the cluster view: leader, schedulers, workers and their load, registries')
    .action(async (_options: unknown, command: Command) => {
      const context = contextOf(command);
      const cluster = await context.registry.get<ClusterView>('/v1/cluster');
      if (context.json) return printJson(context, cluster);
      context.out.line(clusterView(cluster));
    });
}
