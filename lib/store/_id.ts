/**
 * Sortable delivery ids: 48 bits of milliseconds and 80 random bits in
 * Crockford base32 (the ULID layout), monotonic within one process.
 *
 * @module
 */

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const RANDOM_BYTES = 10;

/** Makes ids that sort in creation order, even within one millisecond. */
export class IdGenerator {
  #lastTime = -1;
  #random = new Uint8Array(RANDOM_BYTES);

  /**
   * A new id for the time `now`; never equal to or below an earlier one from this generator.
   *
   * @param now epoch milliseconds
   * @returns a 26-character id
   */
  next(now: number): string {
    const time = Math.max(Math.floor(now), 0);
    if (time > this.#lastTime) {
      this.#lastTime = time;
      crypto.getRandomValues(this.#random);
    } else if (!increment(this.#random)) {
      // 2^80 ids in one millisecond cannot happen; borrowing the next millisecond keeps order anyway.
      this.#lastTime += 1;
      crypto.getRandomValues(this.#random);
    }
    return encodeTime(this.#lastTime) + encodeRandom(this.#random);
  }
}

function increment(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] < 255) {
      bytes[i] += 1;
      return true;
    }
    bytes[i] = 0;
  }
  return false;
}

function encodeTime(time: number): string {
  let out = "";
  let rest = time;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}
