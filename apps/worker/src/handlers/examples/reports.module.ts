import { Module, type DynamicModule } from '@nestjs/common';
import { REPORT_OUTPUT_DIRECTORY, ReportGenerateHandler } from './report-generate.handler';

/** A feature module contributing one handler; the HandlerRegistry finds it by its decorator. */
@Module({})
export class ReportsModule {
  static forRoot(options: { outputDirectory: string }): DynamicModule {
    return {
      module: ReportsModule,
      providers: [
        { provide: REPORT_OUTPUT_DIRECTORY, useValue: options.outputDirectory },
        ReportGenerateHandler,
      ],
    };
  }
}
