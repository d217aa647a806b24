// Loaded with NODE_OPTIONS=--require: writes the process's peak resident set size (kB) when it exits.
const { writeFileSync } = require('node:fs');
process.on('exit', () => {
  if (process.env.MAX_RSS_FILE) writeFileSync(process.env.MAX_RSS_FILE, String(process.resourceUsage().maxRSS));
});
