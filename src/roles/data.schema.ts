import { z } from 'zod';
import { absolutePath, octalMode, posixName, relativePath, safeText } from '../schema/primitives.js';

/** The data role's section of the inventory (`data:`): the data root and its directories. */

const directorySchema = z
  .object({
    path: relativePath,
    owner: posixName.optional(),
    group: posixName.optional(),
    mode: octalMode.optional(),
    description: safeText.optional(),
  })
  .strict();

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
