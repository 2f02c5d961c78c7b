-- GET a path with a random category per request (like the ceiling's random_cat.lua), with an
-- optional Bearer token. CATEGORIES is a comma-separated list of codes, or "range:1:1000".
-- Usage: wrk ... -s catalog_category.lua URL -- PATH_FORMAT CATEGORIES [TOKEN]
--   e.g. -- '/s/cat-main/api/v1/products?category=%s&per_page=20' handles,locks eyJ...
--        -- '/products/%s' range:1:1000
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "catalog_report.lua")
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local fmt, cats, lo, hi, headers = "/%s", nil, 1, 1000, {}
function init(args)
  fmt = args[1]
  local spec = args[2] or "range:1:1000"
  local a, b = spec:match("^range:(%d+):(%d+)$")
  if a then
    lo, hi = tonumber(a), tonumber(b)
  else
    cats = {}
    for c in spec:gmatch("[^,]+") do cats[#cats + 1] = c end
  end
  if args[3] and args[3] ~= "" then headers["Authorization"] = "Bearer " .. args[3] end
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6) + (tid or 0) * 7919)
end
function request()
  local c = cats and cats[math.random(1, #cats)] or tostring(math.random(lo, hi))
  return wrk.format("GET", string.format(fmt, c), headers)
end
function done(summary, latency, requests)
  catalog_report(summary, latency)
end
