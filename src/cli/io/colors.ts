/**
 * The few colours this tool prints: ANSI SGR codes of the 16-colour set, on a terminal only.
 * (Five styles do not need a colour library loaded by every command.) A style inside another is
 * re-opened after the inner one closes, so `bold(red(x) + y)` keeps y bold.
 */
export interface Colors {
  /** 1: codes are written; 0: text is left as it is. */
  readonly level: 0 | 1;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

function style(open: number, close: number): (text: string) => string {
  const start = `\u001b[${open}m`;
  const end = `\u001b[${close}m`;
  return (text) => `${start}${text.split(end).join(`${end}${start}`)}${end}`;
}

const plain = (text: string): string => text;

const ON: Colors = { level: 1, bold: style(1, 22), dim: style(2, 22), red: style(31, 39), green: style(32, 39), yellow: style(33, 39) };
const OFF: Colors = { level: 0, bold: plain, dim: plain, red: plain, green: plain, yellow: plain };

export function colors(on: boolean): Colors {
  return on ? ON : OFF;
}
