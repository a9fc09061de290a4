// The text imports of src/api/docs-assets.ts, for the type checker (named apart: a .d.ts beside a .ts of its name is skipped).
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const text: string;
  export default text;
}
declare module "swagger-ui-dist/swagger-ui.css" {
  const text: string;
  export default text;
}
