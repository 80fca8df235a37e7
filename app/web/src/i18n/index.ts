import { de } from "./de.js";
import { type Catalogue, en, type MessageKey } from "./en.js";

export type { MessageKey };

/** The languages the pages speak, each complete (i18n.test.ts), named in its own language for the switch. */
export const LANGUAGES = {
  en: { name: "English", messages: en as Catalogue },
  de: { name: "Deutsch", messages: de },
} as const;
export type Language = keyof typeof LANGUAGES;

const STORAGE_KEY = "zephyr:language";
const isLanguage = (value: unknown): value is Language =>
  typeof value === "string" && Object.hasOwn(LANGUAGES, value);

/** The visitor's choice from the switch, else the first browser language we speak, else English. */
export function detectLanguage(
  stored: string | null = safeStorageGet(STORAGE_KEY),
  preferred: readonly string[] = navigator.languages ?? [navigator.language],
): Language {
  if (isLanguage(stored)) return stored;
  for (const tag of preferred) {
    const base = tag.toLowerCase().split("-")[0];
    if (isLanguage(base)) return base;
  }
  return "en";
}

function safeStorageGet(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

let current: Language = detectLanguage();
const listeners = new Set<() => void>();
document.documentElement.lang = current;

export const language = (): Language => current;

export function setLanguage(next: Language): void {
  current = next;
  document.documentElement.lang = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // private mode: the choice lasts for this page only
  }
  for (const listener of listeners) listener();
}

export function onLanguageChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The message in the current language with its {placeholders} filled in; values are text, never markup. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const template = LANGUAGES[current].messages[key] ?? en[key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? formatValue(params[name] as string | number) : whole,
  );
}

const formatValue = (value: string | number) =>
  typeof value === "number" ? new Intl.NumberFormat(current).format(value) : value;

export const formatPercent = (share: number): string =>
  new Intl.NumberFormat(current, { style: "percent", maximumFractionDigits: 0 }).format(share);

export const formatDecimal = (value: number): string =>
  new Intl.NumberFormat(current, { minimumFractionDigits: 1, maximumFractionDigits: 2 }).format(value);
