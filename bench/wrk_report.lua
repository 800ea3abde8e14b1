-- bench/wrk_report.lua — prints wrk's figures as one JSON line ("WRK_JSON {...}")
-- for bench/benchlib.py. Scripts with their own request() load it with
-- dofile(os.getenv("WRK_REPORT_LUA")).
-- No response() callback on purpose: defining one makes wrk copy every header
-- and body into Lua, which would slow the load generator down, most of all on
-- the 2 MB file. wrk counts a status >= 400 in errors.status.

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"bytes":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.bytes, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
