import { inspect } from 'node:util';

/**
 * A password or token in memory. It never prints: String(), JSON.stringify and util.inspect
 * all give "[redacted]", so a secret that slips into a log line or an error shows nothing.
 * Only `reveal()` gives the value, and only the code that hashes it or sends it to JSM calls it.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  get length(): number {
    return this.#value.length;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
