-- Events per day (UTC, of receivedAt) and eventType: what arrives, and how much.
SELECT
    CAST("receivedAt" AS DATE) AS day,
    "eventType",
    count(*) AS events
FROM events
GROUP BY ALL
ORDER BY day, events DESC, "eventType";
