/**
 * What Authelia 4.38's configuration validator requires of configuration.yml as hostkit renders it
 * (the JWT, session and storage secrets come from AUTHELIA_* environment variables instead):
 * an authentication backend, storage, a notifier, session cookies for the protected domain with
 * the portal URL, and access control. Paths for toHaveProperty.
 */
export const AUTHELIA_REQUIRED: (string | number)[][] = [
  ['authentication_backend', 'file', 'path'],
  ['storage', 'local', 'path'],
  ['notifier', 'filesystem', 'filename'],
  ['session', 'cookies', 0, 'domain'],
  ['session', 'cookies', 0, 'authelia_url'],
  ['session', 'redis', 'host'],
  ['access_control', 'default_policy'],
  ['access_control', 'rules', 0, 'domain'],
  ['access_control', 'rules', 0, 'policy'],
];

/** The environment variables that carry the secrets the validator requires. */
export const AUTHELIA_SECRET_ENV = [
  'AUTHELIA_IDENTITY_VALIDATION_RESET_PASSWORD_JWT_SECRET',
  'AUTHELIA_SESSION_SECRET',
  'AUTHELIA_STORAGE_ENCRYPTION_KEY',
];
