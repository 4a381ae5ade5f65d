// Mocha's spec reporter, closed by a plain "N passed, N failed, N skipped"
// line that CI systems read without knowing mocha.
import Mocha from "mocha";

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = this.stats;
      // After the spec reporter's own epilogue.
      setImmediate(() => console.log(`${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`));
    });
  }
}

export = SpecWithSummary;
