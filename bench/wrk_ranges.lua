-- bench/wrk_ranges.lua — each request asks for a random window of 1 to 8 MB
-- of one big file: "Range: bytes=a-b", uniformly placed inside the file.
-- Environment: RANGE_FILE_SIZE (bytes, required), RANGE_MIN / RANGE_MAX (bytes,
-- default 1 MiB / 8 MiB). The Authorization header comes from wrk -H.
dofile(os.getenv("WRK_REPORT_LUA"))

local size = tonumber(os.getenv("RANGE_FILE_SIZE"))
local min_len = tonumber(os.getenv("RANGE_MIN") or 1048576)
local max_len = tonumber(os.getenv("RANGE_MAX") or 8388608)
local seeded = false

request = function()
  if not seeded then
    math.randomseed(os.time() + math.floor(os.clock() * 1e6))
    seeded = true
  end
  local len = math.random(min_len, max_len)
  local first = math.random(0, size - len)
  wrk.headers["Range"] = string.format("bytes=%d-%d", first, first + len - 1)
  return wrk.format(nil, nil, wrk.headers)
end
