import { z } from 'zod';
import { absolutePath, octalMode, posixName, relativePath, safeText } from '../schema/primitives.js';

/** The data role's section of the inventory (`data:`): the data root and its directories. */

/** A name, or a numeric id: the uid:gid an image runs as (pgAdmin 5050:0, n8n 1000), named on the host or not. */
const ownerId = z.union([posixName, safeText.regex(/^\d{1,10}$/, 'a numeric id')], { error: 'a user/group name or a numeric id' });
const isId = (v: string | undefined) => v !== undefined && /^\d+$/.test(v);

const directorySchema = z
  .object({
    path: relativePath,
    owner: ownerId.optional(),
    group: ownerId.optional(),
    mode: octalMode.optional(),
    description: safeText.optional(),
  })
  .strict()
  .refine((d) => d.owner === undefined || d.group === undefined || isId(d.owner) === isId(d.group), {
    error: 'owner and group must both be names or both be numeric ids',
    path: ['group'],
  });

export const dataSchema = z
  .object({
    root: absolutePath,
    owner: posixName.default('root'),
    group: posixName.default('root'),
    mode: octalMode.default('0755'),
    directories: z.array(directorySchema).default([]),
  })
  .strict();

export type DataConfig = z.infer<typeof dataSchema>;
