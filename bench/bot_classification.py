"""What telling bots apart costs: `python3 bench/bot_classification.py` (see `--help`).

On the corpus of real agents (tests/data/user_agents), prints:

1. building a `BotClassifier` (compiling the list: once per worker, at start-up);
2. `classify()` cold (each agent's first request: the list is searched) and
   warm (every later request: a look-up in the per-agent cache), per call;
3. with `--compare`, the same corpus through the alternatives docs/bots.md
   weighs, where installed (`pip install ua-parser ua-parser-builtins
   user-agents`): uap-core's spider rule through ua-parser, and
   crawler-user-agents' own matcher, unchanged.

Prints the figures; nothing fails on a timing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collector.bots import BotClassifier  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "user_agents"


def corpus(name: str) -> list[tuple[str, str]]:
    """(kind, user agent) of each line of a corpus file."""
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return [(kind, agent) for kind, _, agent in rows]


def per_call(function: Callable[[str], object], agents: list[str]) -> list[float]:
    """Microseconds of each call of function on each agent, in order."""
    times = []
    for agent in agents:
        start = time.perf_counter()
        function(agent)
        times.append((time.perf_counter() - start) * 1e6)
    return times


def summary(times: list[float]) -> str:
    times = sorted(times)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return f"median {statistics.median(times):8.2f} µs, p99 {p99:8.2f} µs, max {times[-1]:8.2f} µs"


def measure_ours(people: list[str], bots: list[str], rounds: int) -> None:
    start = time.perf_counter()
    classifier = BotClassifier()
    print(f"BotClassifier(): {(time.perf_counter() - start) * 1000:.0f} ms (compiling the list, once per worker)")
    for label, agents in (("people", people), ("bots", bots)):
        fresh = BotClassifier()
        print(f"classify() cold, {label:6} ({len(agents)} agents): {summary(per_call(fresh.classify, agents))}")
    for agent in people + bots:
        classifier.classify(agent)
    warm = [t for _ in range(rounds) for t in per_call(classifier.classify, people + bots)]
    # One call is near the timer's resolution: time a whole loop too.
    start = time.perf_counter()
    for _ in range(rounds):
        for agent in people:
            classifier.classify(agent)
    loop = (time.perf_counter() - start) / (rounds * len(people)) * 1e9
    print(f"classify() warm (cached, {rounds} rounds): {summary(warm)}; {loop:.0f} ns a call in a loop")
    detected = sum(classifier.classify(agent) is not None for agent in bots)
    flagged = sum(classifier.classify(agent) is not None for agent in people)
    rate = f"{detected}/{len(bots)} bots detected ({detected / len(bots):.1%})"
    print(f"ours: {rate}, {flagged}/{len(people)} people flagged")


def compare(kinds: list[tuple[str, str]], bots: list[str]) -> None:
    people = [agent for _, agent in kinds]
    alternatives: dict[str, Callable[[str], bool]] = {}
    try:
        import ua_parser

        resolver = ua_parser.BasicResolver(ua_parser.load_builtins())
        alternatives["ua-parser (uap-core device 'Spider')"] = lambda agent: (
            getattr(resolver(agent, ua_parser.Domain.DEVICE).device, "family", None) == "Spider"
        )
    except ModuleNotFoundError:
        print("ua-parser is not installed: pip install ua-parser ua-parser-builtins")
    try:
        import user_agents

        alternatives["user-agents (is_bot, on ua-parser)"] = lambda agent: user_agents.parse(agent).is_bot
    except ModuleNotFoundError:
        print("user-agents is not installed: pip install user-agents")
    import crawleruseragents

    alternatives["crawler-user-agents is_crawler() as shipped"] = crawleruseragents.is_crawler
    for name, is_bot in alternatives.items():
        times = per_call(is_bot, people + bots)
        detected = sum(map(is_bot, bots))
        flagged = Counter(kind for kind, agent in kinds if is_bot(agent))
        print(
            f"{name}: {detected}/{len(bots)} bots ({detected / len(bots):.1%}), "
            f"{flagged.total()}/{len(people)} people flagged {dict(flagged)}; uncached {summary(times)}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="warm rounds over the corpus (default 200)")
    parser.add_argument("--compare", action="store_true", help="also measure the alternatives, where installed")
    args = parser.parse_args(argv)
    kinds = corpus("people.tsv")
    people, bots = [agent for _, agent in kinds], [agent for _, agent in corpus("bots.tsv")]
    measure_ours(people, bots, args.rounds)
    if args.compare:
        compare(kinds, bots)


if __name__ == "__main__":
    main()
