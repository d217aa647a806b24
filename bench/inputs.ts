import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** Writes a CSV of `rows` customers (Email,Full Name,Department[,Password]) without holding it in memory. */
export async function writeCustomersCsv(path: string, rows: number, options: { prefix?: string; passwords?: boolean } = {}): Promise<void> {
  const prefix = options.prefix ?? 'user';
  const out = createWriteStream(path);
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(options.passwords ? 'Email,Full Name,Department,Password\r\n' : 'Email,Full Name,Department\r\n');
  let batch = '';
  for (let i = 0; i < rows; i++) {
    batch += `${prefix}${i}@example.com,"Customer ${i}, ${prefix}",Dept ${i % 17}${options.passwords ? `,Pw-${prefix}-${i}-secret` : ''}\r\n`;
    if (batch.length > 1 << 16) {
      await write(batch);
      batch = '';
    }
  }
  await write(batch);
  out.end();
  await once(out, 'finish');
}
