#!/usr/bin/env node
// `npm audit` of the production dependencies, failing on high or critical advisories. A registry
// that cannot answer audits (offline mirrors answer 405) is reported loudly, not as a pass or a
// failure of the code: the audit then has to run where the registry can.
import { spawnSync } from 'node:child_process';

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8', timeout: 120_000 });
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  console.error(`audit: npm audit gave no report (exit ${run.status}): ${run.stderr.slice(0, 300)}`);
  process.exit(1);
}
if (report.statusCode || report.error || report.message) {
  console.warn(`audit: NOT RUN - the registry cannot answer audits here (${report.statusCode ?? ''} ${report.message ?? report.error?.summary ?? ''}).`);
  process.exit(0);
}
const counts = report.metadata?.vulnerabilities ?? {};
const serious = (counts.high ?? 0) + (counts.critical ?? 0);
console.log(`audit: production dependencies: ${JSON.stringify(counts)}`);
if (serious > 0) {
  for (const [name, v] of Object.entries(report.vulnerabilities ?? {})) if (v.severity === 'high' || v.severity === 'critical') console.error(`  ${v.severity}: ${name} ${v.range ?? ''}`);
  process.exit(1);
}
