-- Distinct people per day (UTC, of receivedAt): a person is their userId, else their anonymousId.
-- Bots' events (those stored with client.bot) are left out.
SELECT
    CAST("receivedAt" AS DATE) AS day,
    count(DISTINCT coalesce("userId", "anonymousId")) AS people,
    count(DISTINCT "userId") AS "signedIn",
    count(*) AS events
FROM events
WHERE (client->'$.bot') IS NULL  -- parentheses: IS binds tighter than ->
GROUP BY ALL
ORDER BY day;
