import { z } from 'zod';

// zod's issues worded for inventory problems (parse.ts); apart from errors.ts, which the
// engine and the light loader import without zod.

const typeNames: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a map',
  record: 'a map',
  array: 'a list',
  null: 'an empty value',
};

/**
 * Per-parse zod error map: words each issue as the noun phrase of what was expected, like the
 * schema's own messages, so every value problem reads `expected <message>, got <value>`.
 * For unknown keys it returns the allowed keys, comma-separated (used for "did you mean").
 */
export const expectedErrorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      return typeNames[iss.expected] ?? iss.expected;
    case 'too_small':
    case 'too_big': {
      const bound = Number(iss.code === 'too_small' ? iss.minimum : iss.maximum);
      const small = iss.code === 'too_small';
      if (iss.origin === 'string')
        return small ? (bound <= 1 ? 'a non-empty string' : `at least ${bound} characters`) : `at most ${bound} characters`;
      if (iss.origin === 'array') return `${small ? 'at least' : 'at most'} ${bound} items`;
      return `a number ${small ? '>' : '<'}${iss.inclusive ? '=' : ''} ${bound}`;
    }
    case 'invalid_value':
      return `one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return iss.format === 'regex' && iss.pattern ? `a string matching ${iss.pattern}` : `a valid ${iss.format}`;
    case 'unrecognized_keys':
      // Ansible's spellings are accepted too but not listed: hostkit's own names are the suggestion.
      return iss.inst instanceof z.ZodObject
        ? Object.keys(iss.inst.shape)
            .filter((k) => !k.startsWith('ansible_'))
            .join(', ')
        : undefined;
    default:
      return undefined;
  }
};
