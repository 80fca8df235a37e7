/** The building blocks of settings: one environment variable with its type, default and meaning. */
import { z } from "zod";

export const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
export const csv = z.string().transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);

export interface Setting<S extends z.ZodType = z.ZodType> {
  env: string;
  schema: S;
}

export const setting = <S extends z.ZodType>(env: string, schema: S, meaning: string): Setting<S> => ({
  env,
  schema: schema.describe(meaning) as S,
});
