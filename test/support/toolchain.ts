// The toolchain modules of scripts/lib/ (plain CommonJS that setup runs
// before the TypeScript build), typed for the tests that check them.
import * as path from "node:path";

/** This repository's root: tests run from dist/test/support/. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");

export interface NodeChoice {
  bin: string;
  binDir?: string;
  version: string;
  provided: boolean;
  machine: { bin: string; version: string } | null;
}

export interface NodeLib {
  MIN_NODE_MAJOR: number;
  NODE_VERSION: string;
  nodeMajor(version: string): number;
  supported(version: string): boolean;
  providedNodeDir(cache?: string): string;
  providedBinDir(root: string, cache?: string): string | null;
  machineNode(envPath?: string, cache?: string): { bin: string; version: string } | null;
  chooseNode(opts?: { envPath?: string; cache?: string; npm?: string; log?: (msg: string) => void }): NodeChoice;
  linkNode(root: string, choice: NodeChoice, cache?: string): void;
  envWithNode(choice: NodeChoice, env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  nodeLink(root: string): string;
}

export interface ToolchainLib {
  PULUMI_VERSION: string;
  goVersionNeeded(moduleDir?: string): string;
  cacheDir(): string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const nodeLib = require(path.join(REPO_ROOT, "scripts", "lib", "node.js")) as NodeLib;
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const toolchain = require(path.join(REPO_ROOT, "scripts", "lib", "toolchain.js")) as ToolchainLib;
