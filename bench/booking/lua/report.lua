-- Shared done(): the run's figures and every thread's counters as one "BENCHJSON {...}" line.
return function(summary, latency, threads)
  local merged, active = {}, 0
  for _, thread in ipairs(threads) do
    active = math.max(active, thread:get("active_us") or 0)
    local c = thread:get("counts") or {}
    for k, v in pairs(c) do merged[k] = (merged[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(merged) do parts[#parts + 1] = string.format('"%s":%d', k, v) end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"mean_us":%.1f,"max_us":%d,' ..
    '"p50_us":%d,"p95_us":%d,"p99_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d},"active_us":%d,"counts":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout, active, table.concat(parts, ",")))
end
