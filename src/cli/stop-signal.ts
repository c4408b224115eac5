/** Resolves on SIGTERM or SIGINT, so a command can close cleanly. */
export function waitForStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}
