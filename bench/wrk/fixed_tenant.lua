-- GET one fixed path. Usage: wrk ... -s fixed_tenant.lua http://HOST -- /s/bench-0500/
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")
local path = "/"
function init(args)
  if args[1] then path = args[1] end
end
function request()
  return wrk.format("GET", path)
end
function done(summary, latency, requests)
  json_report(summary, latency)
end
