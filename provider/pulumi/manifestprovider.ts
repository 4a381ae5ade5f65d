// The ImagesManifest resource's provider: the images validated at `check`,
// the file written atomically, and a manifest deleted or edited by hand read
// as gone, so `up` writes it again.
import type * as pulumi from "@pulumi/pulumi";
import {
  currentSha256, type ManifestInputs, type ManifestOutputs, manifestPath, removeManifest, renderManifest, writeManifest,
} from "../builder/image/manifest";
import { ConfigError, ConfigErrors } from "../model/config";

export const manifestProvider: pulumi.dynamic.ResourceProvider<ManifestInputs, ManifestOutputs> = {
  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (typeof news.dir !== "string" || news.dir === "") {
      failures.push({ property: "dir", reason: "ImagesManifest: dir must be a non-empty path" });
    }
    if (!Array.isArray(news.images)) {
      failures.push({ property: "images", reason: "ImagesManifest: images must be a list of image configurations" });
    } else {
      try {
        renderManifest(news.images);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        const problems = err instanceof ConfigErrors ? err.problems : [err];
        failures.push(...problems.map((p) => ({ property: "images", reason: `ImagesManifest: ${p.message}` })));
      }
    }
    return { inputs: news, failures };
  },

  async diff(_id, olds, news) {
    const replaces = manifestPath(olds.dir) !== manifestPath(news.dir) ? ["dir"] : [];
    const changes = replaces.length > 0 || JSON.stringify(olds.images) !== JSON.stringify(news.images);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const outs = await writeManifest(inputs);
    return { id: outs.path, outs };
  },

  async update(_id, _olds, news) {
    return { outs: await writeManifest(news) };
  },

  async read(id, props) {
    if (!props) return { id };
    // A manifest deleted or edited by hand reads as gone, so `up` writes it again.
    const sha = await currentSha256(props.path);
    return sha === props.sha256 ? { id, props } : {};
  },

  async delete(_id, props) {
    await removeManifest(props);
  },
};
