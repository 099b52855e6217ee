// Drives Segment's own Node SDK (@segment/analytics-node, unchanged) for tests/system/ingest/test_segment.py.
// Reads {"module", "host", "writeKey", "settings", "calls": [[method, params], ...]} as JSON on stdin,
// makes the calls, waits for closeAndFlush and prints {"errors": [...]} on stdout.
'use strict'
const chunks = []
process.stdin.on('data', (chunk) => chunks.push(chunk))
process.stdin.on('end', async () => {
  const plan = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  const { Analytics } = require(plan.module)
  const analytics = new Analytics({ writeKey: plan.writeKey, host: plan.host, ...plan.settings })
  const errors = []
  analytics.on('error', (error) => errors.push(String(error.reason || error.code || error)))
  for (const [method, params] of plan.calls) analytics[method](params)
  await analytics.closeAndFlush({ timeout: plan.timeoutMs })
  process.stdout.write(JSON.stringify({ errors }) + '\n')
})
