// Mocha's spec reporter, closed by each file's time, slowest first (where a
// run's minutes go), and a plain "N passed, N failed, N skipped" line that
// CI systems read without knowing mocha.
import Mocha from "mocha";
import * as path from "node:path";

const { EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_RUN_END } = Mocha.Runner.constants;

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const started = new Map<string, number>();
    const spent = new Map<string, number>();
    const fileOf = (suite: Mocha.Suite) => (suite.file ? path.relative(process.cwd(), suite.file) : undefined);
    runner.on(EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
      const file = fileOf(suite);
      if (file && suite.parent?.root && !started.has(file)) started.set(file, Date.now());
    });
    runner.on(EVENT_SUITE_END, (suite: Mocha.Suite) => {
      const file = fileOf(suite);
      const t = file && suite.parent?.root ? started.get(file) : undefined;
      if (file && t !== undefined) spent.set(file, (spent.get(file) ?? 0) + (Date.now() - t)), started.delete(file);
    });
    runner.once(EVENT_RUN_END, () => {
      const s = this.stats;
      // After the spec reporter's own epilogue.
      setImmediate(() => {
        const slowest = [...spent].sort((a, b) => b[1] - a[1]).filter(([, ms]) => ms >= 10_000);
        if (slowest.length) {
          console.log("time by file (10 s or more):");
          for (const [file, ms] of slowest) console.log(`  ${(ms / 1000).toFixed(0).padStart(5)} s  ${file}`);
        }
        console.log(`${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`);
      });
    });
  }
}

export = SpecWithSummary;
