/**
 * Load generator for the benches' HTTP rows, run as its own process (test-support/bench/http-load.ts
 * spawns it) so the load it makes never shares an event loop with the server it measures.
 * Input: one JSON argument { url, paths, headers, connections, seconds }; each request takes a
 * random path of `paths`. Output: one JSON line with autocannon's result (latency in ms).
 * https://github.com/mcollina/autocannon#api
 */
import autocannon from 'autocannon';

const { url, paths, headers, connections, seconds: duration } = JSON.parse(process.argv[2]);
const pick = () => paths[Math.floor(Math.random() * paths.length)];
const started = performance.now();
const result = await autocannon({
  url,
  connections,
  // A duration, not an amount: with `amount` autocannon still ends on its 1 s ticker, so a run's
  // rate would be its count over a whole number of seconds.
  duration,
  // Keep-alive (autocannon's default): every connection sends its next request when one is answered.
  pipelining: 1,
  headers,
  requests: [{ setupRequest: (request) => ({ ...request, path: pick() }) }],
});
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  JSON.stringify({
    requests: result.requests.total,
    perSecond: result.requests.total / seconds,
    averagePerSecond: result.requests.average,
    latency: {
      median: result.latency.p50,
      p99: result.latency.p99,
      mean: result.latency.mean,
      max: result.latency.max,
    },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds,
  }) + '\n',
);
