-- GET one path with a Bearer token. Usage: wrk ... -s authed.lua URL -- PATH TOKEN
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")
local path, token = "/", ""
function init(args)
  path = args[1]
  token = args[2]
end
function request()
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
function done(summary, latency, requests)
  json_report(summary, latency)
end
