// The dynamic providers' implementations. The resources serialize only
// one-line forwarders (forwarding.ts) that `require()` this module by package
// name, `pulumi-vm-images/provider` (package.json's exports), so the state
// holds no code of ours and an upgrade of this package takes effect on the
// next operation.
import type * as pulumi from "@pulumi/pulumi";
import { createImage, updateImage } from "../build/create";
import { cliCadence, engineProgress } from "./enginelog";
import {
  currentSha256,
  type ManifestInputs,
  type ManifestOutputs,
  manifestPath,
  removeManifest,
  renderManifest,
  writeManifest,
} from "../build/manifest";
import {
  checkPull,
  type CheckedPullInputs,
  createPull,
  deletePull,
  diffPull,
  type PullInputs,
  type PullOutputs,
  readPull,
} from "../build/pulled";
import { ConfigError, ConfigErrors } from "../model/config";
import { definedOnly } from "./imageprovider";
import {
  type CheckedImageInputs,
  checkImage,
  deleteImage,
  diffImage,
  type ImageInputs,
  type ImageOutputs,
  readImage,
} from "./imageprovider";

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

export const imageProvider: pulumi.dynamic.ResourceProvider<ImageInputs, ImageOutputs> = {
  check: (olds, news) => checkImage(news, olds as Partial<CheckedImageInputs>),
  diff: async (_id, olds, news) => diffImage(olds, news as CheckedImageInputs),
  create: async (inputs) => {
    const checked = inputs as CheckedImageInputs;
    const outs = definedOnly(await createImage(checked, engineProgress(checked.__urn, checked.name), cliCadence()));
    return { id: outs.path, outs };
  },
  // Only inputs that change how, not what, we build reach update (mergeSteps), and publishing an image not published yet.
  update: async (_id, olds, news) => ({ outs: definedOnly(await updateImage(olds, news as CheckedImageInputs)) }),
  read: async (id, props) => readImage(id, props),
  delete: async (_id, props) => deleteImage(props),
};

export const pullProvider: pulumi.dynamic.ResourceProvider<PullInputs, PullOutputs> = {
  check: async (olds, news) => {
    const r = await checkPull(news, olds as Partial<CheckedPullInputs>);
    return { inputs: definedOnly(r.inputs), failures: r.failures };
  },
  diff: async (_id, olds, news) => ({ ...diffPull(olds, news as CheckedPullInputs), deleteBeforeReplace: false }),
  create: async (inputs) => {
    const outs = definedOnly(await createPull(inputs as CheckedPullInputs));
    return { id: outs.ref, outs };
  },
  update: async (_id, olds, news) => ({ outs: definedOnly({ ...olds, ...(news as CheckedPullInputs) }) }),
  read: async (id, props) => readPull(id, props),
  delete: async (_id, props) => deletePull(props),
};
