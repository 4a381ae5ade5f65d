// The root program of the vm-images project (Pulumi.yaml `main`).
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { ImagesManifest } from "./provider";

const config = new pulumi.Config("vm-images");
const dir = path.resolve(config.get("dir") ?? "images");

const manifest = new ImagesManifest("images-manifest", { dir, images: [] });

export const manifestPath = manifest.path;
