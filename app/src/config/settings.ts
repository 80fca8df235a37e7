import type { z } from "zod";
import type { Setting } from "./setting.js";
import { behaviourSettings } from "./settings-behaviour.js";
import { infrastructureSettings } from "./settings-infrastructure.js";

export type { Setting } from "./setting.js";

/**
 * Every setting of the service, each stated once: its environment variable, type, default and meaning,
 * grouped by the part of the service that uses it. The Config type, the parser and the documentation table
 * are all derived from this object.
 */
export const settings = { ...infrastructureSettings, ...behaviourSettings } as const;

type Settings = typeof settings;
export type Config = {
  [G in keyof Settings]: {
    [K in keyof Settings[G]]: z.output<Settings[G][K] extends Setting<infer S> ? S : never>;
  };
};
