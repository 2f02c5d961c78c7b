-- GET /s/bench-NNNN/ for a uniformly random tenant of N. Usage: wrk ... -s random_tenant.lua http://HOST -- 1000
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 1000
function init(args)
  if args[1] then n = tonumber(args[1]) end
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6) + (tid or 0) * 7919)
end
function request()
  return wrk.format("GET", string.format("/s/bench-%04d/", math.random(1, n)))
end
function done(summary, latency, requests)
  json_report(summary, latency)
end
