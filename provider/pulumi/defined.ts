// The engine's protobuf Struct has no `undefined`: outputs and checked
// inputs leave such keys out.

export function definedOnly<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
