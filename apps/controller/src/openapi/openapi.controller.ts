import { Controller, Get, Header } from '@nestjs/common';
import { DOCS_PAGE } from './docs-page';
import { OpenApiService } from './openapi.service';

/** The API's own description: OpenAPI at /v1/openapi.json and a browsable page at /v1/docs. No token needed. */
@Controller('v1')
export class OpenApiController {
  constructor(private readonly openapi: OpenApiService) {}

  @Get('openapi.json')
  document(): Record<string, unknown> {
    return this.openapi.build();
  }

  @Get('docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
  docs(): string {
    return DOCS_PAGE;
  }
}
