import {
  listenForServiceChanges,
  type ServiceChangeFeed,
  type ServiceChangeFeedOptions,
} from '../api/services/service-changes.js';

/** Waits until the feed is live (or fails after `timeoutMs`). */
export async function untilLive(feed: ServiceChangeFeed, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!feed.live) {
    if (Date.now() > deadline) throw new Error(`the service change feed is not live after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A change feed on the test database, already listening. */
export async function liveServiceChanges(
  databaseUrl: string,
  options: ServiceChangeFeedOptions = {},
): Promise<ServiceChangeFeed> {
  const feed = listenForServiceChanges(databaseUrl, options);
  await untilLive(feed).catch(async (error: unknown) => {
    await feed.close();
    throw error;
  });
  return feed;
}
