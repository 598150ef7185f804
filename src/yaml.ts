import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);

/**
 * YAML.parse, with the yaml package loaded at the first YAML read rather than at start: it is one of
 * the slowest packages to load, and a server answers `initialize` before it reads any policy or
 * config file in YAML.
 */
export function parseYaml(text: string): unknown {
  return (require('yaml') as typeof Yaml).parse(text);
}
