-- Random tenants of N; each wrk thread stops after its share of COUNT responses (bounded by
-- count; run it with -d as an upper bound on time too). PATH is a format with one %04d for
-- the tenant number; TOKEN, when given, is sent as a Bearer token.
-- Usage: wrk -t2 ... -s counted_tenants.lua http://HOST -- N COUNT THREADS [PATH] [TOKEN]
--   e.g. -- 1000 10000 2 /s/bench-%04d/api/v1/admin/staff eyJ...
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n, limit, seen, path, headers = 1000, 5000, 0, "/s/bench-%04d/", {}
function init(args)
  n = tonumber(args[1] or "1000")
  limit = math.floor(tonumber(args[2] or "10000") / tonumber(args[3] or "2"))
  if args[4] and args[4] ~= "" then path = args[4] end
  if args[5] and args[5] ~= "" then headers["Authorization"] = "Bearer " .. args[5] end
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6) + (tid or 0) * 7919)
end
function request()
  return wrk.format("GET", string.format(path, math.random(1, n)), headers)
end
function response(status, headers, body)
  seen = seen + 1
  if seen >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
  json_report(summary, latency)
end
