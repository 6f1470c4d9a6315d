import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { paginated, parsePage, type Paginated } from '../platform/common/pagination';
import { csvParam } from '../platform/common/query-params';
import { CellDrainService } from './cell-drain.service';
import { CellsService, type CellView } from './cells.service';

/** Live cells, ordered by id, filterable by `zones`: any authenticated user; drain and undrain: platform admin. */
@Controller('v1/cells')
@UseGuards(TokenGuard)
export class CellsController {
  constructor(
    private readonly cells: CellsService,
    private readonly drains: CellDrainService,
  ) {}

  @Get()
  async list(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<Paginated<CellView>> {
    const page = parsePage(query);
    const zones = csvParam(query, 'zones');
    const all = (await this.cells.list(actor)).filter((c) => !zones || zones.includes(c.zone));
    return paginated(all.slice(page.skip, page.skip + page.take), all.length, page, '/v1/cells', query);
  }

  @Get(':id')
  get(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<CellView> {
    return this.cells.get(actor, id);
  }

  @Post(':id/actions/drain')
  @HttpCode(202)
  drain(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<{ id: string; state: string }> {
    return this.drains.drain(actor, id);
  }

  /** Ends an operator's drain: the cell takes work again. */
  @Post(':id/actions/undrain')
  @HttpCode(202)
  undrain(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<{ id: string; state: string }> {
    return this.drains.undrain(actor, id);
  }
}
