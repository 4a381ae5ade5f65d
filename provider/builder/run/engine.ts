// The Pulumi engine's address, as the engine gives it to the dynamic
// provider process: its last argument, after any flags of its own (-v=3,
// --tracing URL). Both the engine's Log call and the interrupt watchdog
// (which notices a killed CLI by its port refusing connections) use it.

export interface EngineAddress {
  host: string;
  port: number;
  /** As the engine wrote it, HOST:PORT, for a gRPC client. */
  target: string;
}

/** The engine's address, or undefined outside a provider process (a library caller, a test). */
export function engineAddress(argv = process.argv): EngineAddress | undefined {
  if (argv.length <= 2) return undefined;
  const target = argv[argv.length - 1];
  const m = /^([\w.-]+|\[[\da-fA-F:]+\]):(\d+)$/.exec(target);
  return m ? { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]), target } : undefined;
}
