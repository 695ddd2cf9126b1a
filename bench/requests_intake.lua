-- wrk script of bench/requests_intake.py (issue 6): POSTs with a fresh Idempotency-Key each,
-- and a share of retries that reuse a key this thread sent a moment ago (so some race their
-- original on another connection).
--
--   wrk -t2 -c12 -d60s -s bench/requests_intake.lua http://127.0.0.1:PORT \
--       -- SCENARIO PREFIX TOKEN CATEGORIES DISTRICTS [RETRY_SHARE]
--
-- SCENARIO is floor, api or open311 (a -sync/-lean/... suffix is ignored here); CATEGORIES
-- and DISTRICTS are comma-separated codes. done() prints one JSON line (prefix "WRK ") with the
-- counts the bench compares with the rows in the database: keys issued, deliveries by status.

local texts = {
  "企业开办时刻章环节需要跑多次，请协调解决",
  "申请的稳岗补贴至今未到账，请尽快核实发放",
  "园区道路破损严重，货车进出困难，请求修缮",
  "项目环评审批时间过长，影响开工进度",
  "增值税留抵退税材料反复退回，要求说明原因",
  "用电报装等待超过一个月，请求加快",
  "招投标设置不合理门槛，排斥本地中小企业",
  "政府采购货款拖欠半年，请协调支付",
  "消防验收标准前后不一，请求明确",
  "人才公寓申请流程不清楚，咨询办理条件",
}

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local function split(s)
  local out = {}
  for item in string.gmatch(s or "", "[^,]+") do
    table.insert(out, item)
  end
  return out
end

local function urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function init(args)
  scenario = string.gsub(args[1] or "api", "%-.*$", "")
  prefix = (args[2] or "wrk") .. "-" .. id .. "-"
  token = args[3] or ""
  categories = split(args[4])
  districts = split(args[5])
  retry_share = tonumber(args[6] or "0.1")
  counter = 0
  issued = 0
  retries = 0
  recent = {}
  s2xx, s200, s201, other = 0, 0, 0, 0
  math.randomseed(os.time() + id * 7919)
end

local function body_for(key)
  local text = texts[(counter % #texts) + 1] .. "（来电 " .. key .. "）"
  local category = categories[math.random(#categories)]
  local district = districts[math.random(#districts)]
  if scenario == "open311" then
    return "/open311/v2/requests.json", "application/x-www-form-urlencoded; charset=utf-8",
      "api_key=" .. urlencode(token) .. "&service_code=" .. category .. "&description="
        .. urlencode(text) .. "&attribute%5Bregion%5D=" .. district .. "&phone=13800001111"
  end
  local path = scenario == "floor" and "/bench/floor" or "/api/v1/requests"
  return path, "application/json",
    '{"text": "' .. text .. '", "category": "' .. category .. '", "region_code": "'
      .. district .. '"}'
end

function request()
  local key
  if counter > 0 and math.random() < retry_share then
    -- One of the last 50 keys of this thread (the ring holds min(counter, 50) of them).
    key = recent[math.random(math.min(counter, 50))]
    retries = retries + 1
  else
    counter = counter + 1
    issued = issued + 1
    key = prefix .. counter
    recent[((counter - 1) % 50) + 1] = key
  end
  local path, content_type, body = body_for(key)
  local headers = { ["Content-Type"] = content_type, ["Idempotency-Key"] = key }
  if scenario ~= "open311" then
    headers["Authorization"] = "Bearer " .. token
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status == 201 then
    s201 = s201 + 1
  elseif status == 200 then
    s200 = s200 + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local t = { issued = 0, retries = 0, s200 = 0, s201 = 0, other = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(t) do
      t[name] = t[name] + (thread:get(name) or 0)
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK {"keys_sent": %d, "retries_sent": %d, "s200": %d, "s201": %d, "other": %d, '
      .. '"deliveries": %d, "duration_us": %d, "socket_errors": %d, "p50_ms": %.1f, '
      .. '"p95_ms": %.1f, "p99_ms": %.1f}\n',
    t.issued, t.retries, t.s200, t.s201, t.other, summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000
  ))
end
