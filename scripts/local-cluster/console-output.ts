/**
 * One line per event on stdout, each prefixed with where it comes from
 * (`[scheduler-1] …`, `[start] …`); colours only on a terminal, and never
 * with NO_COLOR set.
 */
import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];
export type Tone = 'plain' | 'dim' | 'warn' | 'error' | 'good';

const SOURCE_COLOURS: readonly Style[] = ['cyan', 'magenta', 'blue', 'green', 'yellow'];
const TONES: Record<Tone, Style | undefined> = {
  plain: undefined,
  dim: 'dim',
  warn: 'yellow',
  error: 'red',
  good: 'green',
};

export class ConsoleOutput {
  private readonly colour: boolean;
  private readonly sourceColours = new Map<string, Style>();
  private width = 'start'.length;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    this.colour = stream.isTTY === true && !process.env.NO_COLOR;
  }

  /** Pads every prefix to the longest of these names, so messages line up. */
  alignTo(names: readonly string[]): void {
    this.width = Math.max(this.width, ...names.map((name) => name.length));
  }

  /** A line from a process (or from this script when `source` is `start`). */
  line(source: string, text: string, tone: Tone = 'plain'): void {
    const prefix = `[${source}]`.padEnd(this.width + 2);
    this.stream.write(
      `${this.paint(prefix, this.sourceColour(source))} ${this.tone(text, tone)}\n`,
    );
  }

  info(text: string, tone: Tone = 'plain'): void {
    this.line('start', text, tone);
  }

  error(text: string): void {
    this.line('start', text, 'error');
  }

  /** Lines without a prefix (the summary block). */
  block(lines: readonly string[]): void {
    this.stream.write(`${lines.join('\n')}\n`);
  }

  bold(text: string): string {
    return this.paint(text, 'bold');
  }

  private tone(text: string, tone: Tone): string {
    const style = TONES[tone];
    return style === undefined ? text : this.paint(text, style);
  }

  private sourceColour(source: string): Style {
    if (source === 'start') return 'bold';
    let colour = this.sourceColours.get(source);
    if (colour === undefined) {
      colour = SOURCE_COLOURS[this.sourceColours.size % SOURCE_COLOURS.length];
      this.sourceColours.set(source, colour);
    }
    return colour;
  }

  private paint(text: string, style: Style): string {
    return this.colour ? styleText(style, text) : text;
  }
}
