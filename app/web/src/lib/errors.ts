import { en, type MessageKey } from "../i18n/en.js";
import { t } from "../i18n/index.js";

/** A service error (or NETWORK / TIMEOUT) in the visitor's language; VALIDATION_FAILED keeps the field it names. */
export function errorMessage(error: { code: string; message: string }): string {
  if (error.code === "NETWORK") return t("error.network");
  const key = `error.${error.code}` as MessageKey;
  if (!(key in en)) return t("error.INTERNAL");
  return t(key, { message: error.message });
}
