-- POST /api/v1/tickets with a different customer token and subject on every request.
-- Script arguments: the customer tokens (wrk ... -s create_ticket.lua URL -- TOKEN1 TOKEN2 ...).
local tokens = {}
local counter = 0
local departments = {"technical", "billing", "abuse"}

function init(args)
  for i = 1, #args do tokens[i] = args[i] end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  counter = counter + 1
  local token = tokens[math.random(#tokens)]
  local body = string.format(
    '{"subject":"Load test ticket %d-%d","description":"The server does not answer since %d; please check.",'
      .. '"department":"%s","priority":"medium"}',
    counter, math.random(1000000), counter, departments[math.random(#departments)])
  return wrk.format("POST", "/api/v1/tickets",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
