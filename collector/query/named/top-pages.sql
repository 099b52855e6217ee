-- The 20 most viewed pages: page_view events by properties.path, with the people who saw each.
SELECT
    properties->>'$.path' AS path,
    count(*) AS views,
    count(DISTINCT coalesce("userId", "anonymousId")) AS people
FROM events
WHERE "eventType" = 'page_view'
GROUP BY ALL
ORDER BY views DESC, path
LIMIT 20;
