// Entry point of the configuration: the schema of tock.toml (config/schema.ts) and how it is read and
// overlaid with environment variables and flags (config/load.ts).
export { type Config, ConfigSchema } from "./config/schema.ts";
export {
  ConfigError,
  type ConfigFlags,
  type ConfigIssue,
  configFile,
  envName,
  type LoadOptions,
  loadConfig,
  parseConfig,
} from "./config/load.ts";
