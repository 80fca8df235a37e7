/**
 * Result changes for screen readers: one polite live region, updated at most every few seconds with the latest
 * summary, so a fast-moving poll is read out calmly instead of interrupting on every vote.
 */
export function createAnnouncer(region: () => HTMLElement | null, intervalMs = 5000) {
  let pending: string | undefined;
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    const el = region();
    if (el && pending !== undefined && el.textContent !== pending) el.textContent = pending;
    pending = undefined;
    last = Date.now();
  };
  return {
    say(text: string) {
      pending = text;
      if (timer) return;
      timer = setTimeout(flush, Math.max(0, last + intervalMs - Date.now()));
    },
    stop() {
      if (timer) clearTimeout(timer);
    },
  };
}
