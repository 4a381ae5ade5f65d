// An SBOM checked against CycloneDX 1.5's published JSON schema (as the
// CycloneDX library ships it on npm), with Ajv: the problems, none when it
// is valid.
import Ajv from "ajv";
import addFormats from "ajv-formats";
import * as fs from "node:fs";
import * as path from "node:path";

const SCHEMAS = path.join(path.dirname(require.resolve("@cyclonedx/cyclonedx-library/package.json")), "res", "schema");
const BASE = "http://cyclonedx.org/schema/";

const load = (file: string) => JSON.parse(fs.readFileSync(path.join(SCHEMAS, file), "utf8")) as Record<string, unknown>;

let validate: ReturnType<Ajv["compile"]> | undefined;

export function cycloneDxProblems(doc: unknown): string[] {
  if (!validate) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    // Formats the schema uses that ajv-formats lacks: any string.
    ajv.addFormat("iri-reference", true);
    ajv.addFormat("idn-email", true);
    // The bom schema names its neighbours by their file names.
    for (const file of ["spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"]) ajv.addSchema({ ...load(file), $id: `${BASE}${file}` });
    validate = ajv.compile(load("bom-1.5.SNAPSHOT.schema.json"));
  }
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`);
}
