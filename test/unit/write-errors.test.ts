// A full disk must end in an error the pipeline can catch (exit 2, staging removed), never in an
// 'error' event nobody listens to. /dev/full answers every write with ENOSPC, like a full disk.
import { existsSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LineIndexWriter } from '../../src/transform/line-index.js';
import { PartWriter } from '../../src/transform/part-writer.js';
import { RejectsWriter } from '../../src/transform/rejects-writer.js';
import { drained, endStream, openWriteStream } from '../../src/transform/write-stream.js';
import { tempDir } from '../helpers/run.js';
import { until } from '../helpers/wait.js';

describe.runIf(existsSync('/dev/full'))('writers on a full disk', () => {
  it('a write stream keeps ENOSPC for the next wait on it, even when it fails while nobody waits', async () => {
    const s = openWriteStream('/dev/full');
    expect(s.write('a small write that the stream accepts at once')).toBe(true);
    // the failure happens now, while nothing awaits this stream (an unlistened 'error' would end the process)
    await until(() => s.errored !== null, 'the write has failed');
    await expect(drained(s)).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(endStream(s)).rejects.toMatchObject({ code: 'ENOSPC' });
  });

  it.each([
    [
      'clean parts',
      async (dir: string) => {
        await symlink('/dev/full', join(dir, 'clean.csv'));
        const w = new PartWriter(dir, 'userId,event,time\n', 1 << 30);
        for (let i = 0; i < 10_000; i++) if (w.add(`u${i},open,1700000000\n`)) await w.flush();
        await w.end();
      },
    ],
    [
      'rejects.csv',
      async (dir: string) => {
        await symlink('/dev/full', join(dir, 'rejects.csv'));
        const w = new RejectsWriter(join(dir, 'rejects.csv'), ['userId', 'event', 'time'], false);
        for (let i = 0; i < 10_000; i++) w.add('in.csv', i + 2, 'bad_time', 'not a time', [`u${i}`, 'open', 'x']);
        await w.flush();
        await w.end();
      },
    ],
    [
      'clean.lines',
      async (dir: string) => {
        await symlink('/dev/full', join(dir, 'clean.lines'));
        const w = new LineIndexWriter(join(dir, 'clean.lines'));
        for (let i = 0; i < 100_000; i++) w.add(0, i + 2);
        await w.flush();
        await w.end();
      },
    ],
  ])('%s: ENOSPC comes back as a rejected promise', async (_what, write) => {
    const dir = await tempDir();
    await expect(write(dir)).rejects.toMatchObject({ code: 'ENOSPC' });
  });
});
