import { ApiProperty } from '@nestjs/swagger';
import type { ApiErrorBody, FieldError } from '@app/contracts/dto/scheduler-api';

/** The error body of every API, as classes for the OpenAPI document. */
export class FieldErrorDto implements FieldError {
  @ApiProperty({ example: 'retry.maxAttempts' }) field!: string;
  @ApiProperty({ example: 'must be an integer between 1 and 1000' }) reason!: string;
}

export class ApiErrorBodyDto implements ApiErrorBody {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'Bad Request' }) error!: string;
  @ApiProperty({
    example: 'invalid request: retry.maxAttempts must be an integer between 1 and 1000',
  })
  message!: string;
  @ApiProperty({ type: () => [FieldErrorDto] }) errors!: FieldErrorDto[];
}
