/** Collects the reasons of unhandled promise rejections until `stop()`. */
export function trackUnhandledRejections(): { readonly reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    reasons.push(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  return {
    reasons,
    stop() {
      process.off('unhandledRejection', onUnhandled);
    },
  };
}
