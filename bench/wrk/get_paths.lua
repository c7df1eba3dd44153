-- GET a random path from a file (one per line) with a bearer token.
-- Script arguments: PATHS_FILE TOKEN
local paths = {}
local token = ""

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  token = args[2] or ""
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  local headers = {}
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
