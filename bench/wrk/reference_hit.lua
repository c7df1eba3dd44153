-- POST /hit on the reference app: one row inserted per request.
local counter = 0

function request()
  counter = counter + 1
  return wrk.format("POST", "/hit", {["Content-Type"] = "application/json"},
    string.format('{"label":"hit %d-%d"}', counter, math.random(1000000)))
end
