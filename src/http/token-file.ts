// The static token file (api.md §15.2): parsed strictly, because a lenient parse fails open — a
// mistyped section header (`[tokens]`) used to switch the file to one-token-per-line mode and make
// the header line itself a valid token (issue 10, item 6).

/** The one section an INI token file may have, spelled exactly (configparser is case-sensitive). */
export const TOKEN_SECTION = '[AUTH TOKENS]';

/** Shorter tokens can be guessed; a file holding one stops start-up. */
export const MIN_TOKEN_LENGTH = 16;

/** A problem with one line of the token file; the caller names the file (TOKEN_PATH). */
export class TokenFileError extends Error {}

const SECTION_LINE = /^\[.*\]$/;

/**
 * Tokens in a token file, told apart by content: a file with an `[AUTH TOKENS]` line is INI and
 * every value in that section is a token (`label = token` or `label: token`); any other file has
 * one token per line. Blank lines and `#` comments are ignored in both (`;` comments too in INI).
 * Throws TokenFileError for any other `[...]` line, a value outside the section, a token with
 * whitespace (a bearer header cannot carry it) or one shorter than MIN_TOKEN_LENGTH. The token
 * itself never appears in an error: it is a secret.
 */
export function parseTokenFile(text: string): string[] {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  lines.forEach((line, i) => {
    if (SECTION_LINE.test(line) && line !== TOKEN_SECTION) {
      throw new TokenFileError(
        `line ${i + 1} "${line}" is not the section header ${TOKEN_SECTION} (the only one allowed, spelled exactly)`,
      );
    }
  });
  const isIni = lines.includes(TOKEN_SECTION);
  const tokens: string[] = [];
  let inSection = false;
  lines.forEach((line, i) => {
    if (line === '' || line.startsWith('#') || (isIni && line.startsWith(';'))) return;
    if (line === TOKEN_SECTION) {
      inSection = true;
      return;
    }
    const where = `line ${i + 1}`;
    if (isIni && !inSection) throw new TokenFileError(`${where}: a value before ${TOKEN_SECTION}`);
    tokens.push(isIni ? iniValue(line, where) : line);
    checkToken(tokens[tokens.length - 1] ?? '', where);
  });
  return tokens;
}

function iniValue(line: string, where: string): string {
  const sep = line.search(/[=:]/);
  if (sep === -1) throw new TokenFileError(`${where}: not "label = token"`);
  return line.slice(sep + 1).trim();
}

function checkToken(token: string, where: string): void {
  if (/\s/.test(token)) {
    throw new TokenFileError(`${where}: a token cannot contain whitespace`);
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new TokenFileError(
      `${where}: a token must be at least ${MIN_TOKEN_LENGTH} characters (this one has ${token.length})`,
    );
  }
}
