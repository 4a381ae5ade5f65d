// Classic BPF, as seccomp reads it, assembled from instructions whose jumps
// name labels: no jump offset is counted by hand, so adding a call to a list
// cannot send another one to the wrong return.

/** struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6] (little-endian). */
export const SECCOMP_DATA = { nr: 0, arch: 4, arg0Low: 16 } as const;

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;

/** A jump target: a label, or undefined for the next instruction. */
type Target = string | undefined;

export type Instruction =
  | { op: "label"; name: string }
  | { op: "load"; offset: number }
  | { op: "jeq" | "jge" | "jset"; k: number; then?: Target; else?: Target }
  | { op: "ret"; k: number };

export const label = (name: string): Instruction => ({ op: "label", name });
/** Load the 32-bit word at `offset` of struct seccomp_data. */
export const load = (offset: number): Instruction => ({ op: "load", offset });
/** If A == k go to `then`, else to `otherwise`. */
export const jeq = (k: number, then?: Target, otherwise?: Target): Instruction => ({ op: "jeq", k, then, else: otherwise });
/** If A >= k (unsigned) go to `then`, else to `otherwise`. */
export const jge = (k: number, then?: Target, otherwise?: Target): Instruction => ({ op: "jge", k, then, else: otherwise });
/** If A & k go to `then`, else to `otherwise`. */
export const jset = (k: number, then?: Target, otherwise?: Target): Instruction => ({ op: "jset", k, then, else: otherwise });
export const ret = (k: number): Instruction => ({ op: "ret", k });

function encode(code: number, jt: number, jf: number, k: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(code, 0);
  b.writeUInt8(jt, 2);
  b.writeUInt8(jf, 3);
  b.writeUInt32LE(k >>> 0, 4);
  return b;
}

/** The program as an array of struct sock_filter (what `bwrap --seccomp FD` reads). Throws on an unknown label or a jump too far for 8 bits. */
export function assemble(program: readonly Instruction[]): Buffer {
  const at = new Map<string, number>();
  let pc = 0;
  for (const i of program) {
    if (i.op !== "label") pc++;
    else if (at.has(i.name)) throw new Error(`BPF label ${i.name} defined twice`);
    else at.set(i.name, pc);
  }
  const out: Buffer[] = [];
  const offset = (target: Target, from: number) => {
    if (target === undefined) return 0;
    const to = at.get(target);
    if (to === undefined) throw new Error(`BPF label ${target} is not defined`);
    const d = to - from - 1;
    if (d < 0 || d > 255) throw new Error(`BPF jump to ${target} out of range (${d})`);
    return d;
  };
  for (const i of program) {
    const here = out.length;
    switch (i.op) {
      case "label": break;
      case "load": out.push(encode(BPF_LD_W_ABS, 0, 0, i.offset)); break;
      case "ret": out.push(encode(BPF_RET_K, 0, 0, i.k)); break;
      default: {
        const code = { jeq: BPF_JEQ_K, jge: BPF_JGE_K, jset: BPF_JSET_K }[i.op];
        out.push(encode(code, offset(i.then, here), offset(i.else, here), i.k));
      }
    }
  }
  return Buffer.concat(out);
}
