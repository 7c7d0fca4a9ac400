/**
 * C0 controls (NUL, TAB, LF, CR, ESC, ...), DEL, C1 controls (NEL U+0085 included) and the Unicode
 * line and paragraph separators: each can end a line for some reader (fail2ban's universal
 * newlines, systemd, YAML, JavaScript) or drive a terminal.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters refused.
export const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
