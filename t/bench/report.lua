-- Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
-- wrk script for t/bench/run.sh: sends the request given on the command
-- line (plus -H headers) and prints one machine-readable line at the end:
--   BENCH rps=<req/s> p50=<us> p90=<us> p99=<us> max=<us> requests=<n>
--         errors=<socket errors> non2xx=<n>
-- Latency percentiles come from wrk's own histogram (microseconds).
--
-- With BENCH_PACE_MS=N in the environment each connection waits N ms
-- between its requests (wrk's delay() hook; the wait is not counted as
-- latency), so 64 connections offer a fixed, moderate load instead of
-- running flat out.

local pace = tonumber(os.getenv("BENCH_PACE_MS") or "")

if pace and pace > 0 then
   delay = function()
      return pace
   end
end

done = function(summary, latency, requests)
   local secs = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "BENCH rps=%.1f p50=%d p90=%d p99=%d max=%d requests=%d " ..
      "errors=%d non2xx=%d\n",
      summary.requests / secs,
      latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, summary.requests,
      e.connect + e.read + e.write + e.timeout, e.status))
end
