// Loaded first (node --import) into a measured child: writes its peak RSS (KB) and CPU time when it exits.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    // Peak RSS (KB), then CPU time used by the process itself (µs, user + system).
    writeFileSync(file, `${usage.maxRSS} ${usage.userCPUTime + usage.systemCPUTime}`);
  });
}
