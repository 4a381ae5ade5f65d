// The engine checks a resource it replaces a second time, without its old
// inputs, and keeps that second result as the new inputs. What only the
// first check can know (why the resource is replaced: it compares with the
// old inputs) is carried over to the second here, in this provider process,
// which serves one operation.

/** Reasons found by a check with old inputs, recalled by the check of the same new inputs without them. */
export class CarriedReasons {
  private readonly reasons = new Map<string, string[]>();

  /**
   * With old inputs, `compare()` gives the reasons and they are kept under
   * `key` (the new inputs, canonical); without, the kept ones, else `fallback`.
   */
  reasonsFor(key: string, hasOlds: boolean, compare: () => string[], fallback: string[] = []): string[] {
    if (hasOlds) {
      const found = compare();
      this.reasons.set(key, found);
      return found;
    }
    return this.reasons.get(key) ?? fallback;
  }
}
