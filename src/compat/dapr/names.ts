// Dapr's job names (since dapr/dapr #10120: any character but '/', '\', '#', '?' and control characters,
// and neither "." nor "..") and the native names that hold them. A Dapr name that is a native name already
// is kept as it is; any other (and any starting with the prefix below) is stored as that prefix and the
// hex of its UTF-8 bytes, which no kept name can be. The Dapr name itself is kept with the job (compat).
import { DaprError, nameEmpty } from "./errors.ts";

/** What a native name may be (src/domain/schemas.ts Name). */
const NATIVE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
/** The prefix of a native name that holds an encoded Dapr name. */
const ENCODED = "dapr:";
/** Go's unicode.IsControl: C0, DEL and C1. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A Dapr job name as daprd takes it (trimmed), or Dapr's 400. */
export function daprName(given: string): string {
  const name = given.trim(); // daprd trims the name it schedules
  if (name === "") throw nameEmpty();
  if (name === "." || name === ".." || /[/\\#?]/.test(name) || CONTROL.test(name)) {
    throw new DaprError(400, "DAPR_SCHEDULER_JOB_NAME", `job name ${JSON.stringify(name)} is invalid: it may not hold '/', '\\', '#', '?' or a control character, nor be "." or ".."`);
  }
  return name;
}

/** The native name of a Dapr job; a Dapr name too long to be stored is Dapr's 400. */
export function nativeName(name: string): string {
  if (NATIVE.test(name) && !name.startsWith(ENCODED)) return name;
  const encoded = ENCODED + Buffer.from(name, "utf8").toString("hex");
  if (encoded.length > 200) throw new DaprError(400, "DAPR_SCHEDULER_JOB_NAME", `job name ${JSON.stringify(name)} is too long: at most ${(200 - ENCODED.length) / 2} bytes here when it holds characters other than letters, digits, '.', '_', ':' and '-'`);
  return encoded;
}

/** A name as one segment of a URL path: what RFC 3986 allows there is kept, the rest percent-encoded. */
export function pathSegment(name: string): string {
  return encodeURIComponent(name).replace(/%(21|24|26|27|28|29|2A|2B|2C|3A|3B|3D|40)/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}
