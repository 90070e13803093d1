-- POST /api/bookings/: each request a distinct free slot, with its customer's token.
-- args: <threads> <file of "token<TAB>json body" lines>; thread t takes lines t, t+threads, ...
local lines, step, index = {}, 1, 0
local made = 0
function setup(thread)
  thread:set("offset", made)
  made = made + 1
end
function init(args)
  step = tonumber(args[1])
  for line in io.lines(args[2]) do table.insert(lines, line) end
  index = offset
end
function request()
  local line = lines[(index % #lines) + 1]
  index = index + step
  local token, body = line:match("^([^\t]*)\t(.*)$")
  return wrk.format("POST", "/api/bookings/",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
local reported = 0
function response(status, headers, body)
  if status >= 300 and reported < 3 then
    reported = reported + 1
    io.stderr:write("create answered " .. status .. ": " .. body .. "\n")
  end
end
