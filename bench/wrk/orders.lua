-- POST /api/v1/orders with three lines taken from a SKU list split in thirds (like the
-- pgbench ceiling's order scripts: distinct SKUs, qty 1..3), a fresh Idempotency-Key each.
-- Usage: wrk ... -s orders.lua URL -- PATH SKU_FILE TOKEN
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "catalog_report.lua")
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local path, skus, headers, n = "/", {}, {}, 0
function init(args)
  path = args[1]
  for line in io.lines(args[2]) do
    if line ~= "" then skus[#skus + 1] = line end
  end
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. args[3]
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6) + (tid or 0) * 7919)
end
function request()
  n = n + 1
  local k = math.floor(#skus / 3)
  local a = skus[math.random(1, k)]
  local b = skus[k + math.random(1, k)]
  local c = skus[2 * k + math.random(1, k)]
  headers["Idempotency-Key"] = string.format("w%d-%d-%d-%d", tid or 0, os.time(), n, math.random(1, 1000000000))
  local body = string.format('{"lines":[{"sku":"%s","qty":%d},{"sku":"%s","qty":%d},{"sku":"%s","qty":%d}]}',
    a, math.random(1, 3), b, math.random(1, 3), c, math.random(1, 3))
  return wrk.format("POST", path, headers, body)
end
function done(summary, latency, requests)
  catalog_report(summary, latency)
end
