import { z } from 'zod';
import { httpsUrl, safeJson, safeLines, safeText, versionString } from '../schema/primitives.js';

/** The docker role's section of the inventory (`docker:`). */
export const dockerSchema = z
  .object({
    /** debian: Debian's docker.io + docker-compose (Debian 13); docker-ce: Docker's own apt repository. */
    source: z.enum(['debian', 'docker-ce']).default('debian'),
    /** Override the package list of the source. */
    packages: z.array(safeText.regex(/^[a-z0-9][a-z0-9+.-]*$/, 'a Debian package name')).optional(),
    /**
     * docker-ce only: the apt repository. `url` is required with docker-ce (Docker's repository for
     * the host's distribution, or the operator's mirror of it): the project names no mirror host.
     */
    repository: z
      .object({
        url: httpsUrl.optional(),
        /** Distribution codename; default the host's VERSION_CODENAME. */
        suite: safeText.regex(/^[a-z0-9-]+$/).optional(),
        components: z.array(safeText.regex(/^[a-z0-9-]+$/)).default(['stable']),
        /** URL of the ASCII-armored signing key (default <url>/gpg), fetched on the host when absent. */
        key_url: httpsUrl.optional(),
        /** Or the key itself (ASCII-armored), written as is. */
        key: safeLines.includes('BEGIN PGP PUBLIC KEY BLOCK').optional(),
      })
      .strict()
      .default({ components: ['stable'] }),
    /** /etc/docker/daemon.json as a map; absent: the file is not managed. */
    daemon: z.record(safeText, safeJson).optional(),
    /** --check fails below these. */
    min_version: versionString.optional(),
    compose_min_version: versionString.optional(),
  })
  .strict()
  .superRefine((docker, ctx) => {
    if (docker.source === 'docker-ce' && docker.repository.url === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['repository', 'url'],
        message: "docker.source docker-ce needs docker.repository.url (Docker's apt repository for this distribution, or its mirror)",
      });
  });

export type DockerConfig = z.infer<typeof dockerSchema>;
