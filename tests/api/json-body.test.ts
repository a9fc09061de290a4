// parseJsonText, the one way request bodies become values: depth, numbers past a double, lone surrogates.
import { expect, test } from "bun:test";
import { MAX_JSON_DEPTH, nestsWithin, parseJsonText } from "../../src/api/http.ts";
import { DomainError } from "../../src/domain/errors.ts";

const refusal = (text: string) => {
  try {
    parseJsonText(text);
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    return { field: e.field, message: e.message };
  }
  return null;
};
const nested = (depth: number, open = "[", close = "]", inner = "1") => open.repeat(depth) + inner + close.repeat(depth);

test("nesting: exactly MAX_JSON_DEPTH levels parse, one more is refused, however deep and whatever else is wrong", () => {
  expect(parseJsonText(nested(MAX_JSON_DEPTH))).toBeArray();
  expect(parseJsonText(nested(MAX_JSON_DEPTH - 1, '{"a":', "}"))).toBeObject();
  const deep = { field: "body", message: `body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep` };
  expect(refusal(nested(MAX_JSON_DEPTH + 1))).toEqual(deep);
  expect(refusal(nested(MAX_JSON_DEPTH, '{"a":', "}", "{}"))).toEqual(deep);
  expect(refusal(nested(1_000_000))).toEqual(deep);
  // A number past a double's range before the deep part: the nesting is what is named.
  expect(refusal(`[1e999, ${nested(100)}]`)).toEqual(deep);
  // The same verdicts as the scan of the text the compat layer uses for small fields.
  for (const d of [1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1]) expect(refusal(nested(d)) === null).toBe(nestsWithin(nested(d)));
});

test("a number past a double's range is named by its path, brackets inside strings are text", () => {
  expect(refusal('{"a":[1,{"b":-1e309}]}')).toMatchObject({ field: "a.1.b" });
  expect(refusal("1e400")).toMatchObject({ field: "body" });
  expect(refusal(`{"x":${"9".repeat(400)}}`)).toMatchObject({ field: "x" });
  expect(parseJsonText(`{"s":"${"[".repeat(200)}","n":1e308}`)).toEqual({ s: "[".repeat(200), n: 1e308 });
  expect(refusal('{"s":"\\ud800"}')).toMatchObject({ field: "s" });
  expect(refusal("{")).toMatchObject({ field: "body" });
});
