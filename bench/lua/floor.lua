-- The floor: POST a one-row create to the bare DRF app.
local headers = {["Content-Type"] = "application/json"}
function request()
  return wrk.format("POST", "/items/", headers, '{"name": "item"}')
end
