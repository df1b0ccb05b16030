/**
 * Entry point of `zks` (bin/zks.js loads this file, compiled or from source):
 * runs one command and turns its outcome into an exit code (exit-codes.ts).
 */
import { CommanderError, type Command } from 'commander';
import { CliError, ExitCode } from './exit-codes';
import { buildProgram, type ProgramIo } from './program';

export async function main(
  argv: readonly string[],
  io: ProgramIo = {
    writeOut: (text) => process.stdout.write(text),
    writeErr: (text) => process.stderr.write(text),
  },
): Promise<number> {
  const program = buildProgram(io);
  applyToAll(program, (command) =>
    command
      .exitOverride()
      .configureOutput({ writeOut: io.writeOut, writeErr: io.writeErr })
      .showHelpAfterError('(add --help for usage)')
      .showSuggestionAfterError(),
  );
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (error: unknown) {
    if (error instanceof CommanderError) {
      // Commander has printed the message or the help already; help asked for is a success.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof CliError) {
      io.writeErr(`zks: ${error.message}\n`);
      for (const line of error.details) io.writeErr(`${line}\n`);
      return error.exitCode;
    }
    io.writeErr(`zks: unexpected error: ${error instanceof Error ? error.stack : String(error)}\n`);
    return ExitCode.failed;
  }
}

/** Subcommands built apart (addCommand) do not inherit these settings: set them on each. */
function applyToAll(command: Command, apply: (command: Command) => void): void {
  apply(command);
  for (const sub of command.commands) applyToAll(sub, apply);
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
