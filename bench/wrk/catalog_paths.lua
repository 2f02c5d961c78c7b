-- GET the paths of a file (one per line, already URL-encoded) in turn, each thread starting
-- at its own offset, with an optional Bearer token.
-- Usage: wrk ... -s catalog_paths.lua URL -- FILE [TOKEN]
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "catalog_report.lua")
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local paths, i, headers = {}, 0, {}
function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then paths[#paths + 1] = line end
  end
  if args[2] and args[2] ~= "" then headers["Authorization"] = "Bearer " .. args[2] end
  i = ((tid or 1) - 1) * 7
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], headers)
end
function done(summary, latency, requests)
  catalog_report(summary, latency)
end
