import yamlPackage from 'yaml/package.json' with { type: 'json' };

/** The YAML parser's identity in cache keys: another version of it may parse a text otherwise. */
export const YAML_ID = `yaml@${yamlPackage.version}`;
