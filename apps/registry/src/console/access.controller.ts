import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiTokens, currentPrincipal } from '@app/common';
import type { AccessView } from '@app/contracts/dto/registry-api';
import { RegistryApiErrors } from '../api/registry-api-errors.decorator';
import { AccessDto } from '../api/registry-views.dto';

/**
 * `GET /v1/access`: what the caller's token may do, so a client (the console)
 * can offer only what will be allowed. Tokens are shared by every service of
 * a cluster, so the answer holds for the schedulers' API too. It needs a valid
 * token like every read: a 401 here means "ask for a token".
 */
@ApiTags('access')
@Controller('v1/access')
export class AccessController {
  constructor(private readonly tokens: ApiTokens) {}

  @Get()
  @ApiOperation({ summary: 'The role of the caller’s token (reader, submitter, admin)' })
  @ApiOkResponse({ type: AccessDto })
  @RegistryApiErrors()
  get(): AccessView {
    if (!this.tokens.enabled) return { tokensRequired: false, role: 'admin', tokenName: null };
    const principal = currentPrincipal();
    // The guard let the call in with a valid token, so a principal is always there.
    return {
      tokensRequired: true,
      role: principal?.role ?? 'reader',
      tokenName: principal?.name ?? null,
    };
  }
}
