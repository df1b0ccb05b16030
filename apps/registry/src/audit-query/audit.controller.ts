import { Controller, Get, HttpStatus, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuditPageView } from '@app/contracts/dto/registry-api';
import { RegistryApiErrors } from '../api/registry-api-errors.decorator';
import { AuditPageDto } from '../api/registry-views.dto';
import { auditEventView } from './audit-event-view';
import { AuditQueryDto } from './audit-query.dto';
import { AuditQueryService } from './audit-query.service';

@ApiTags('audit')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditQueryService) {}

  @Get()
  @ApiOperation({
    summary: 'The audit history, oldest first, filtered; keyset pages',
    description:
      'Every state change of the cluster as stored in PostgreSQL. Pass `nextCursor` as `cursor` for the next page; it is null when nothing more matches now (rows stored later come after the last seq seen).',
  })
  @ApiOkResponse({ type: AuditPageDto })
  @RegistryApiErrors(HttpStatus.BAD_REQUEST)
  async query(@Query() query: AuditQueryDto): Promise<AuditPageView> {
    const page = await this.audit.query(query);
    return { items: page.events.map(auditEventView), nextCursor: page.nextCursor };
  }
}
