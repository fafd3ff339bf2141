/**
 * libpq's password file (`~/.pgpass`, or `PGPASSFILE`), which the client
 * library does not read: `host:port:database:user:password` lines, `*`
 * matching anything, `\:` and `\\` escaped, the first match winning.
 *
 * @module
 */

/** Which connection a password is looked up for. */
export interface PgpassTarget {
  host: string;
  port: string;
  database: string;
  user: string;
}

/**
 * The password of the first line matching `target`.
 *
 * @param text the file's content
 * @param target the connection
 * @returns the password, or undefined when no line matches
 */
export function pgpassLookup(text: string, target: PgpassTarget): string | undefined {
  const wanted = [target.host, target.port, target.database, target.user];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const fields = splitFields(line);
    if (fields.length < 5) continue;
    const matches = wanted.every((value, i) =>
      fields[i] === "*" || fields[i] === value ||
      // libpq: "localhost" matches a connection over the default unix socket.
      (i === 0 && fields[i] === "localhost" && value.startsWith("/"))
    );
    if (matches) return fields.slice(4).join(":");
  }
  return undefined;
}

function splitFields(line: string): string[] {
  const fields: string[] = [];
  let current = "";
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (char === "\\" && i + 1 < line.length) current += line[++i];
    else if (char === ":" && fields.length < 4) {
      fields.push(current);
      current = "";
    } else current += char;
  }
  fields.push(current);
  return fields;
}
