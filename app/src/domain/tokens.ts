import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

// No 0/O, 1/I/L: codes are read off a projector and typed on phones.
export const ROOM_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
export const ROOM_CODE_LENGTH = 6;
const ROOM_CODE_PATTERN = new RegExp(`^[${ROOM_CODE_ALPHABET}]{${ROOM_CODE_LENGTH}}$`);

export function generateRoomCode(): string {
  let code = "";
  for (let i = 0; i < ROOM_CODE_LENGTH; i++) code += ROOM_CODE_ALPHABET[randomInt(ROOM_CODE_ALPHABET.length)];
  return code;
}

/** Upper-cases and validates user input; undefined when it cannot be a room code. */
export function normalizeRoomCode(input: unknown): string | undefined {
  if (typeof input !== "string" || input.length > 32) return undefined;
  const code = input.trim().toUpperCase();
  return ROOM_CODE_PATTERN.test(code) ? code : undefined;
}

/** 256 random bits; the prefix lets secret scanners and humans tell host from participant tokens. */
export function generateToken(kind: "host" | "participant"): string {
  return `${kind === "host" ? "zph" : "zpp"}_${randomBytes(32).toString("base64url")}`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function tokenMatchesHash(token: string, expectedHash: string): boolean {
  const actual = Buffer.from(hashToken(token), "hex");
  const expected = Buffer.from(expectedHash, "hex");
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
