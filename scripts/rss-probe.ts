// Preloaded with --import into a measured process: reports its peak RSS when it exits.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  writeSync(2, `\n@@peak-rss-kb ${process.resourceUsage().maxRSS}\n`);
});
