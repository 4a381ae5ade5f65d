// `npm start`: `pulumi up` on stack dev (or $VM_IMAGES_STACK), creating the
// stack on first use, then a table of what it did per image (the stack's
// `summary` output). $VM_IMAGES_STACK may name several stacks, separated by
// commas (`ci,ci-arm64`: one images file for two architectures), each up in
// turn. Arguments are passed on to each `pulumi up`
// (`npm start -- --target URN`). No preview first (`npm run pulumi -- preview`
// is the dry run), and no dump of the outputs: the table says it shorter.
import { mustPulumi } from "./pulumicli";
import { type ImageSummary, summaryTable } from "./summarytable";

const stacks = (process.env.VM_IMAGES_STACK || "dev").split(",").map((s) => s.trim()).filter(Boolean);

for (const stack of stacks) {
  if (stacks.length > 1) console.log(`stack ${stack}:`);
  mustPulumi(["stack", "select", stack, "--create", "--non-interactive"]);
  mustPulumi(["up", "--yes", "--non-interactive", "--skip-preview", "--suppress-outputs", "--stack", stack, ...process.argv.slice(2)]);
  const summary = mustPulumi(["stack", "output", "summary", "--json", "--stack", stack], { output: "stdout" });
  console.log(summaryTable(JSON.parse(summary || "{}") as Record<string, ImageSummary>));
}
