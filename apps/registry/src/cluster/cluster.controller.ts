import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ClusterView } from '@app/contracts/dto/registry-api';
import { RegistryApiErrors } from '../api/registry-api-errors.decorator';
import { ClusterDto } from '../api/registry-views.dto';
import { ClusterViewService } from './cluster-view.service';

@ApiTags('cluster')
@Controller('v1/cluster')
export class ClusterController {
  constructor(private readonly cluster: ClusterViewService) {}

  @Get()
  @ApiOperation({
    summary: 'The live cluster: leader, schedulers, workers and their load, registries',
    description:
      "From watched views of ZooKeeper (`/leader`, `/members/*`, the elections, `/assign/*`), not re-read per request; `stale` is true while the connection is in trouble. `outboxDepth` (one stat of `/audit/outbox`) and the registry's ZooKeeper session state are read per request.",
  })
  @ApiOkResponse({ type: ClusterDto })
  @RegistryApiErrors()
  get(): Promise<ClusterView> {
    return this.cluster.view();
  }
}
