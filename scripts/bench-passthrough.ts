// The baseline: csv-parse → csv-stringify on the same file, array records (its fastest setting).
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';

const [input, output] = process.argv.slice(2) as [string, string];
await pipeline(createReadStream(input, { highWaterMark: 1 << 20 }), parse({ columns: false, bom: true }), stringify(), createWriteStream(output));
