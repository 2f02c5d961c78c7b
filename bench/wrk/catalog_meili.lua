-- POST the bodies of a file (one JSON document per line) in turn to Meilisearch's
-- /multi-search with the master key: the very requests our server sent for the search mix.
-- Usage: wrk ... -s catalog_meili.lua http://127.0.0.1:7700 -- FILE KEY
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "catalog_report.lua")
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local bodies, i, headers = {}, 0, {}
function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then bodies[#bodies + 1] = line end
  end
  headers["Authorization"] = "Bearer " .. args[2]
  headers["Content-Type"] = "application/json"
  i = ((tid or 1) - 1) * 7
end
function request()
  i = i % #bodies + 1
  return wrk.format("POST", "/multi-search", headers, bodies[i])
end
function done(summary, latency, requests)
  catalog_report(summary, latency)
end
