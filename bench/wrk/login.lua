-- POST /api/v1/auth/login with one account. Usage: wrk ... -s login.lua URL -- EMAIL PASSWORD
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")
local body = ""
function init(args)
  body = string.format('{"email":"%s","password":"%s"}', args[1], args[2])
end
function request()
  return wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" }, body)
end
function done(summary, latency, requests)
  json_report(summary, latency)
end
