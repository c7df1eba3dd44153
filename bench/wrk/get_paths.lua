-- GET a random path from a file (one per line) with a bearer token.
-- Script arguments: PATHS_FILE TOKEN [COOKIE] (an empty TOKEN sends none; COOKIE is a session cookie)
local paths = {}
local token = ""
local cookie = ""

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  token = args[2] or ""
  cookie = args[3] or ""
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  local headers = {}
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  if cookie ~= "" then headers["Cookie"] = cookie end
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
