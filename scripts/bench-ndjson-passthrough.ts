// The NDJSON baseline: readline + JSON.parse, each record written back with JSON.stringify.
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const [input, output] = process.argv.slice(2) as [string, string];
const out = createWriteStream(output, { highWaterMark: 1 << 20 });
let buf = '';
for await (const line of createInterface({ input: createReadStream(input, { highWaterMark: 1 << 18 }), crlfDelay: Infinity })) {
  if (line === '') continue;
  buf += JSON.stringify(JSON.parse(line)) + '\n';
  if (buf.length > 1 << 16) {
    if (!out.write(buf)) await once(out, 'drain');
    buf = '';
  }
}
out.end(buf);
await once(out, 'finish');
