-- GET a path, with each request the next customer's token when a token file is given.
-- args: <threads> <path> [<file of "token<TAB>" lines>]
local path, tokens, index = "/", {}, 0
function init(args)
  path = args[2]
  if args[3] and args[3] ~= "" then
    for line in io.lines(args[3]) do table.insert(tokens, (line:match("^([^\t]*)"))) end
  end
end
function request()
  local headers = {}
  if #tokens > 0 then
    index = index + 1
    headers["Authorization"] = "Bearer " .. tokens[(index % #tokens) + 1]
  end
  return wrk.format("GET", path, headers)
end
