// The image forest: which image derives from which. Pure graph logic, the
// queries of lvh's ImageForest, tested without any tool.
//
// As in lvh, an image whose parent is not in the forest is a root of the
// forest: its parent is an existing image file in the images directory.
import * as path from "node:path";
import { ConfigError, ConfigErrors, type ImageConfig, validateImageConfig } from "./config";

export class Forest {
  private readonly byName: ReadonlyMap<string, ImageConfig>;
  private readonly children: ReadonlyMap<string, readonly string[]>;

  private constructor(readonly images: readonly ImageConfig[]) {
    const byName = new Map<string, ImageConfig>();
    for (const img of images) if (!byName.has(img.name)) byName.set(img.name, img);
    const children = new Map<string, string[]>();
    for (const img of images) {
      if (img.parent !== undefined && byName.has(img.parent)) {
        children.set(img.parent, [...(children.get(img.parent) ?? []), img.name]);
      }
    }
    this.byName = byName;
    this.children = children;
  }

  /** A forest of validated images; throws a ConfigError with every duplicate name and parent cycle. */
  static of(images: readonly ImageConfig[]): Forest {
    const forest = new Forest(images);
    const problems = forest.problems();
    if (problems.length) throw new ConfigErrors(undefined, problems);
    return forest;
  }

  /** A forest of images in the TypeScript spelling; throws a ConfigError with every problem of every image and of the forest. */
  static parse(inputs: readonly unknown[]): Forest {
    const problems: ConfigError[] = [];
    const images: ImageConfig[] = [];
    inputs.forEach((input, i) => {
      const result = validateImageConfig(input, i);
      if (result.ok) images.push(result.image);
      else problems.push(...result.problems);
    });
    problems.push(...Forest.problemsOf(images));
    if (problems.length) throw new ConfigErrors(undefined, problems);
    return new Forest(images);
  }

  /** What is wrong with a forest of these images: duplicate names, and each parent cycle once. */
  static problemsOf(images: readonly ImageConfig[]): ConfigError[] {
    return new Forest(images).problems();
  }

  /** Duplicate names, and each parent cycle once (named from the first image that leads into it). */
  private problems(): ConfigError[] {
    const problems: ConfigError[] = [];
    const seenNames = new Set<string>();
    for (const img of this.images) {
      if (seenNames.has(img.name)) problems.push(new ConfigError(img.name, "name", "duplicate image name"));
      seenNames.add(img.name);
    }
    const inReportedCycle = new Set<string>();
    for (const img of this.byName.values()) {
      const seen = [img.name];
      for (let p = this.inForestParent(img.name); p !== undefined; p = this.inForestParent(p)) {
        if (seen.includes(p)) {
          const cycle = seen.slice(seen.indexOf(p));
          if (!cycle.some((n) => inReportedCycle.has(n))) {
            problems.push(new ConfigError(img.name, "parent", `parent cycle: ${[...seen, p].join(" -> ")}`));
          }
          for (const n of cycle) inReportedCycle.add(n);
          break;
        }
        seen.push(p);
      }
    }
    return problems;
  }

  /** Image names in configuration order. */
  names(): string[] {
    return this.images.map((i) => i.name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): ImageConfig {
    const img = this.byName.get(name);
    if (!img) throw new Error(`no configuration for image ${JSON.stringify(name)}`);
    return img;
  }

  /** The parent if it is an image of this forest. */
  inForestParent(name: string): string | undefined {
    const parent = this.get(name).parent;
    return parent !== undefined && this.byName.has(parent) ? parent : undefined;
  }

  /** The parent if it is an image file outside the forest (lvh: an existing file in the images dir). */
  externalParent(name: string): string | undefined {
    const parent = this.get(name).parent;
    return parent !== undefined && !this.byName.has(parent) ? parent : undefined;
  }

  isRootImage(name: string): boolean {
    return this.inForestParent(name) === undefined;
  }

  isLeafImage(name: string): boolean {
    this.get(name);
    return !this.children.has(name);
  }

  /** Images without a parent in the forest, in configuration order. */
  rootImages(): string[] {
    return this.names().filter((n) => this.isRootImage(n));
  }

  /** Images no other image derives from, in configuration order. */
  leafImages(): string[] {
    return this.names().filter((n) => this.isLeafImage(n));
  }

  /** What must be built before `name`: its ancestors in the forest, root first. */
  dependencies(name: string): string[] {
    const out: string[] = [];
    for (let p = this.inForestParent(name); p !== undefined; p = this.inForestParent(p)) out.unshift(p);
    return out;
  }

  /** Every image derived, directly or not, from `name`, parents before children. */
  descendants(name: string): string[] {
    const out: string[] = [];
    const queue = [...(this.children.get(name) ?? [])];
    while (queue.length) {
      const next = queue.shift()!;
      out.push(next);
      queue.push(...(this.children.get(next) ?? []));
    }
    return out;
  }

  /** All images, every parent before its children, otherwise in configuration order. */
  buildOrder(): string[] {
    const done = new Set<string>();
    const out: string[] = [];
    const visit = (n: string) => {
      if (done.has(n)) return;
      const p = this.inForestParent(n);
      if (p !== undefined) visit(p);
      done.add(n);
      out.push(n);
    };
    for (const n of this.names()) visit(n);
    return out;
  }

  /** Path of the image file in the images directory. */
  imageFilename(dir: string, name: string): string {
    this.get(name);
    return path.join(dir, name);
  }
}
