/**
 * Child processes of `npm start` run in their own process groups (so the orchestrator can stop them
 * in order). If the orchestrator dies without cleaning up (SIGKILL), this makes them notice and
 * exit instead of lingering: their parent pid changes when they are re-parented.
 */
export function exitWithParent(
  onOrphaned: () => void,
  enabled = process.env.EXIT_WITH_PARENT === 'true',
): void {
  if (!enabled) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onOrphaned();
    }
  }, 1_000);
  timer.unref();
}
