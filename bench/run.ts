// `npm run bench` runs every bench/*.bench.ts; `npm run bench -- decision throughput` runs the ones whose
// names contain any of the words. Prints a table per benchmark and a summary of every goal at the end.
// Benchmarks are not tests: a missed goal is reported, not turned into a failure; a benchmark that breaks
// (an API error, a run that does not pass) exits non-zero.
import { readdirSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Benchmark, type Figure, formatTable, goalMet } from './report.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
/** Names a benchmark answers to besides its file's. */
const aliases: Record<string, string[]> = { 'vendor-approval': ['approvals'] };
const available = readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts'))
  .sort()
  .map((file) => ({ file, name: file.slice(0, -'.bench.ts'.length) }));
const wanted = process.argv.slice(2).filter((arg) => arg !== '--');
const selected = wanted.length
  ? available.filter(({ name }) =>
      [name, ...(aliases[name] ?? [])].some((known) => wanted.some((word) => known.includes(word))),
    )
  : available;
if (selected.length === 0) {
  console.error(
    `No benchmark matches ${wanted.join(', ')}. Available: ${available.map(({ name }) => name).join(', ')}`,
  );
  process.exit(2);
}

const cpuList = cpus();
console.log(
  `Signoff benchmarks — Node ${process.version}, ${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}, ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${process.platform}/${process.arch}, ${new Date().toISOString()}`,
);
console.log(
  `load average before: ${loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')}`,
);

const results: { title: string; figures: Figure[] }[] = [];
let failed = 0;
const allStart = performance.now();
for (const { file, name } of selected) {
  const { benchmark } = (await import(pathToFileURL(`${dir}${file}`).href)) as { benchmark: Benchmark };
  console.log(`\n== ${benchmark.title}`);
  const started = performance.now();
  try {
    const figures = await benchmark.run({ progress: (message) => console.log(`   … ${message}`) });
    console.log(`\n${formatTable(figures.map((figure) => ({ figure })))}`);
    console.log(
      `  (${name}: ${((performance.now() - started) / 1000).toFixed(1)} s; load average now ${loadavg()
        .map((load) => load.toFixed(2))
        .join(' ')})`,
    );
    results.push({ title: name, figures });
  } catch (error) {
    failed++;
    console.error(`\n  ${name} FAILED: ${(error as Error)?.stack ?? error}`);
  }
}

const goals = results.flatMap(({ title, figures }) =>
  figures.filter((figure) => figure.goal).map((figure) => ({ figure, prefix: title })),
);
console.log(`\n== Summary (${((performance.now() - allStart) / 1000).toFixed(1)} s in all)`);
if (goals.length) console.log(formatTable(goals));
const missed = goals.filter(({ figure }) => goalMet(figure) === false).length;
console.log(
  `  ${goals.length - missed} of ${goals.length} goals met` +
    `${failed ? `; ${failed} benchmark${failed === 1 ? '' : 's'} failed` : ''}.` +
    ` Load average after: ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}`,
);
process.exitCode = failed ? 1 : 0;

// Every benchmark closes what it started; if something still holds the event loop, say so and leave.
setTimeout(() => {
  console.error('Something is still running after the benchmarks (a server or timer was not closed).');
  process.exit(process.exitCode === 0 ? 1 : process.exitCode);
}, 5_000).unref();
