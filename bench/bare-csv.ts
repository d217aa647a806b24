// Yardstick: the same file through bare csv-parse (streamed, header row as column names), nothing
// else. `data` (default) counts rows in a .on('data') handler; `await` iterates with for await.
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { parse } from 'csv-parse';

const [file = '', mode = 'data'] = process.argv.slice(2);
let rows = 0;
const parser = createReadStream(file).pipe(parse({ columns: true }));
if (mode === 'await') {
  for await (const _ of parser) rows++;
} else {
  parser.on('data', () => rows++);
  await once(parser, 'end');
}
process.stdout.write(`${rows}\n`);
