-- Bots' events by name and category (client.bot, see docs/bots.md), most first.
SELECT
    client->>'$.bot.name' AS bot,
    client->>'$.bot.category' AS category,
    count(*) AS events
FROM events
WHERE (client->'$.bot') IS NOT NULL  -- parentheses: IS binds tighter than ->
GROUP BY ALL
ORDER BY events DESC, bot;
