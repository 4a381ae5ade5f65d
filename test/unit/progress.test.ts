// The user's view of a build: progress read from tool lines, and how often
// statuses go out (a terminal's live row, a CI log's few lines).
import { expect } from "chai";
import { isVerbose } from "../../provider/builder/image/create";
import { BuildProgress, type Cadence, clock, LINES, LIVE, type ProgressSink, readToolLine } from "../../provider/builder/run/progress";
import { engineAddress } from "../../provider/builder/run/engine";
import { cliCadence } from "../../provider/pulumi/enginelog";

function recorder() {
  const sent: { text: string; ephemeral: boolean; severity: string }[] = [];
  const sink: ProgressSink = {
    status: (text) => void sent.push({ text, ephemeral: true, severity: "info" }),
    note: (text, severity) => void sent.push({ text, ephemeral: false, severity }),
    flush: async () => {},
  };
  return { sent, sink };
}

/** A build of one step lasting `seconds`, ticked every second, with tool lines at given seconds. */
function simulate(cadence: Cadence, seconds: number, lines: Record<number, string[]> = {}) {
  let t = 0;
  const { sent, sink } = recorder();
  const p = new BuildProgress(sink, cadence, () => t);
  p.stepStarted("bootstrap root file system (mmdebstrap)");
  for (let s = 1; s <= seconds; s++) {
    t = s * 1000;
    for (const l of lines[s] ?? []) p.toolLine(l);
    p.tick();
  }
  p.stepFinished("bootstrap root file system (mmdebstrap)", seconds);
  void p.close();
  return sent;
}

describe("build progress", () => {
  const cases: [string[], string | undefined][] = [
    [["Get:12 http://deb.debian.org/debian bookworm/main amd64 libc6 [2 MB]"], "downloading 12"],
    [["0 upgraded, 58 newly installed, 0 to remove and 0 not upgraded.", "Unpacking docker.io (20.10) ...", "Unpacking runc (1.1) ..."], "unpacking 2/58"],
    [["58 newly installed", "Setting up runc (1.1) ..."], "setting up 1/58"],
    [["Unpacking a (1) ...", "Unpacking b (1) ..."], "unpacking 2"],
    [["update-initramfs: Generating /boot/initrd.img-6.1.0-56-amd64"], "building the initramfs"],
    [["[  OK  ] Reached target sockets.target - Socket Units."], "reached sockets.target"],
    [["Hit:1 http://deb.debian.org/debian bookworm InRelease"], undefined],
  ];
  for (const [lines, detail] of cases) {
    it(`reads ${JSON.stringify(lines[lines.length - 1]).slice(0, 50)} as ${detail ?? "nothing"}`, () => {
      const state = { unpacked: 0, setUp: 0, fetched: 0 } as Parameters<typeof readToolLine>[0];
      for (const l of lines) readToolLine(state, l);
      expect(state.detail).to.equal(detail);
    });
  }

  it("formats elapsed time as m:ss", () => {
    expect([clock(0), clock(41_500), clock(125_000)]).to.deep.equal(["0:00", "0:41", "2:05"]);
  });

  it("in a CI log: a step's first status after 30 s, then at doubling gaps, and one line per finished step", () => {
    const lines: Record<number, string[]> = {};
    for (let s = 1; s <= 450; s++) lines[s] = [`Unpacking p${s} (1) ...`];
    const sent = simulate(LINES, 450, lines);
    const statuses = sent.filter((m) => m.ephemeral).map((m) => m.text);
    expect(statuses).to.deep.equal([
      "bootstrap root file system (mmdebstrap): unpacking 30 (0:30)",
      "bootstrap root file system (mmdebstrap): unpacking 90 (1:30)",
      "bootstrap root file system (mmdebstrap): unpacking 210 (3:30)",
      "bootstrap root file system (mmdebstrap): unpacking 450 (7:30)",
    ]);
    expect(sent.filter((m) => !m.ephemeral)).to.deep.equal([
      { text: "bootstrap root file system (mmdebstrap): 450.0 s", ephemeral: false, severity: "info" },
    ]);
  });

  it("in a CI log: a step shorter than 30 s shows only its finished line", () => {
    expect(simulate(LINES, 29).map((m) => m.text)).to.deep.equal(["bootstrap root file system (mmdebstrap): 29.0 s"]);
  });

  it("in a terminal: a status at once and about every 2 s", () => {
    const statuses = simulate(LIVE, 10).filter((m) => m.ephemeral).map((m) => m.text);
    expect(statuses[0]).to.equal("bootstrap root file system (mmdebstrap) (0:00)");
    expect(statuses.length).to.be.within(5, 6);
    for (const s of statuses) expect(s).not.to.include("\n");
  });
});

describe("what the CLI shows", () => {
  it("tool lines too with the image's verbose input or VM_IMAGES_VERBOSE=1, else not", () => {
    expect(isVerbose({ verbose: true }, {})).to.equal(true);
    expect(isVerbose({}, { VM_IMAGES_VERBOSE: "1" })).to.equal(true);
    expect(isVerbose({ verbose: false }, { VM_IMAGES_VERBOSE: "0" })).to.equal(false);
    expect(isVerbose({}, {})).to.equal(false);
  });

  it("the status cadence: VM_IMAGES_PROGRESS decides, CI means a log", () => {
    expect(cliCadence({ VM_IMAGES_PROGRESS: "live" })).to.equal(LIVE);
    expect(cliCadence({ VM_IMAGES_PROGRESS: "lines" })).to.equal(LINES);
    expect(cliCadence({ CI: "true" })).to.equal(LINES);
  });

  it("finds the engine's address as the provider's last argument, whatever flags come first", () => {
    expect(engineAddress(["node", "provider", "127.0.0.1:40963"])).to.deep.equal({ host: "127.0.0.1", port: 40963, target: "127.0.0.1:40963" });
    expect(engineAddress(["node", "provider", "-v=3", "--tracing", "tcp://127.0.0.1:42959", "127.0.0.1:40633"])?.target).to.equal("127.0.0.1:40633");
    expect(engineAddress(["node", "provider", "[::1]:40633"])).to.deep.equal({ host: "::1", port: 40633, target: "[::1]:40633" });
    expect(engineAddress(["node", "mocha", "dist/test/unit/progress.test.js"])).to.equal(undefined);
  });
});
