// Yardstick: the same file through bare csv-parse (streamed, header row as column names), nothing else.
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';

let rows = 0;
for await (const _ of createReadStream(process.argv[2] ?? '').pipe(parse({ columns: true }))) rows++;
process.stdout.write(`${rows}\n`);
