-- wrk script: POST /collect/event with realistic events, a unique eventId each
-- (or, with BENCH_API=segment, POST /v1/batch with the same events as Segment messages).
--
-- BENCH_EVENTS   events per request (1 for single events, 100 for batches)
-- BENCH_API      "segment": Segment's /v1/batch body, a unique messageId each
-- BENCH_NONCE    a number unique to this run, so ids never repeat across runs
-- BENCH_HEADERS  extra request headers, one "Name: value" per line (CORS, write keys)
-- BENCH_IDEMPOTENCY  "1": each request carries its own Idempotency-Key
-- On exit prints one line "BENCH_RESULT {json}" that bench/wrkload.py reads:
-- requests, duration, latency percentiles in microseconds and wrk's error counts.

local per_request = tonumber(os.getenv("BENCH_EVENTS") or "1")
local nonce = tonumber(os.getenv("BENCH_NONCE") or "0")
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("tid", next_thread)
end

local counter = 0
local headers = {
  ["Content-Type"] = "application/json",
  ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
}
for line in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then headers[name] = value end
end
local idempotency = os.getenv("BENCH_IDEMPOTENCY") == "1"

-- About 400 bytes as sent: eventType, eventId, timestamp, three ids, and
-- properties and context objects of the kind a web tracker sends.
local event_head = '{"eventType":"page_view","eventId":"'
local event_tail = '","timestamp":"2026-11-26T04:56:52.123Z","userId":"user-0042",'
  .. '"anonymousId":"anon-7f3c2a19","sessionId":"sess-5b1e9d04",'
  .. '"properties":{"path":"/pricing","referrer":"https://www.example.com/blog",'
  .. '"plan":"team","seats":12,"value":49.5,"trial":true},'
  .. '"context":{"locale":"en-GB","library":{"name":"collector-js","version":"1.4.2"},'
  .. '"screen":{"width":1920,"height":1080}}}'
local body_head = '{"messageheader":{"appVersion":"2.4.1","platform":"web"},"messageBody":['
local body_tail = ']}'
local path = "/collect/event"

-- The same event as a Segment SDK sends it in a batch: the same ids, properties
-- and context, the call's fields instead of eventType (about as many bytes). No
-- sentAt, as the /collect/event body has no messageheader.sentAt: neither corrects clock skew.
if os.getenv("BENCH_API") == "segment" then
  path = "/v1/batch"
  event_head = '{"type":"track","event":"Page Viewed","messageId":"'
  event_tail = '","timestamp":"2026-11-26T04:56:52.123Z","userId":"user-0042",'
    .. '"anonymousId":"anon-7f3c2a19",'
    .. '"properties":{"path":"/pricing","referrer":"https://www.example.com/blog",'
    .. '"plan":"team","seats":12,"value":49.5,"trial":true},'
    .. '"context":{"locale":"en-GB","library":{"name":"analytics-python","version":"2.3.2"},'
    .. '"screen":{"width":1920,"height":1080}},"integrations":{}}'
  body_head = '{"batch":['
  body_tail = ']}'
end

local function event_id()
  counter = counter + 1
  -- UUID-shaped, unique per (run, thread, request, event).
  return string.format("%08x-%04x-4000-8000-%06x%06x", nonce, tid,
    math.floor(counter / 16777216), counter % 16777216)
end

function request()
  local parts = {}
  for i = 1, per_request do
    parts[i] = event_head .. event_id() .. event_tail
  end
  local body = body_head .. table.concat(parts, ",") .. body_tail
  if idempotency then headers["Idempotency-Key"] = "bench-" .. event_id() end
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
      .. '"max_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
