import { z } from 'zod';
import { calendarSpec, safeLines, safeText, secretName, serviceName, stackName } from '../schema/primitives.js';

/** The backup role's section of the inventory (`backup:`): restic repository, schedule, retention. */

const REPOSITORY = 'a restic repository: "sftp:user@host:/path", "/local/path" or "s3:http://host:9000/bucket"';
const HOURS = 'a number of hours > 0';
export const backupSchema = z
  .object({
    /** Default case: an offsite sftp: repository on a backup host; a local path and s3: also work. */
    repository: safeText.regex(/^(sftp:[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:\/\S*|\/\S+|s3:\S+)$/, REPOSITORY),
    /** Secret holding the restic repository password (never written anywhere but a 0600 file). */
    password_secret: secretName,
    /** Secret holding the private SSH key restic's sftp uses (sftp: repositories). */
    ssh_key_secret: secretName.optional(),
    /** The backup host's known_hosts line(s); absent: its key is recorded on first use (accept-new). */
    known_hosts: safeLines.optional(),
    /** Secrets with S3 credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) for s3: repositories. */
    s3_access_key_secret: secretName.optional(),
    s3_secret_key_secret: secretName.optional(),
    /** systemd OnCalendar of the backup timer. */
    schedule: calendarSpec.default('*-*-* 03:00:00'),
    /** systemd OnCalendar of the periodic `restic check`. */
    check_schedule: calendarSpec.default('weekly'),
    retention: z
      .object({
        keep_daily: z.number().int().min(0).default(7),
        keep_weekly: z.number().int().min(0).default(4),
        keep_monthly: z.number().int().min(0).default(6),
      })
      .strict()
      .default({ keep_daily: 7, keep_weekly: 4, keep_monthly: 6 }),
    /** `scripts/backup.mjs --check` fails when the newest snapshot is older than this. */
    max_age_hours: z.number({ error: HOURS }).positive({ error: HOURS }).default(26),
    /** Database containers dumped before each snapshot; absent: every postgres/mariadb service of the stacks. */
    databases: z.array(z.object({ stack: stackName, service: serviceName }).strict()).optional(),
  })
  .strict();
export type BackupConfig = z.infer<typeof backupSchema>;
