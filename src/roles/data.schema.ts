import { z } from 'zod';
import { octalMode, posixName } from '../schema/primitives.js';

/** The data role's section of the inventory (`data:`): the data root and its directories. */

const directorySchema = z
  .object({
    path: z
      .string({ error: 'a path relative to the data root' })
      .regex(/^[^/\0][^\0]*$/, 'a path relative to the data root')
      .refine((p) => !p.split('/').includes('..'), 'a path without ".." components'),
    owner: posixName.optional(),
    group: posixName.optional(),
    mode: octalMode.optional(),
    description: z.string().optional(),
  })
  .strict();

export const dataSchema = z
  .object({
    root: z.string({ error: 'an absolute path' }).regex(/^\/[^\0]*$/, 'an absolute path'),
    owner: posixName.default('root'),
    group: posixName.default('root'),
    mode: octalMode.default('0755'),
    directories: z.array(directorySchema).default([]),
  })
  .strict();

export type DataConfig = z.infer<typeof dataSchema>;
