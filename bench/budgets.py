"""Work a client controls, under its budget (``openbin.bounded.budget``): JSONPath, in-process, no
storage. What the most a linear query visits costs on a 1 MB record, what the meter itself adds,
and what a refusal of super-linear work costs: on a small record (the base budget alone: issue
11 asks for about 100 ms of CPU) and on a record of 8,844 values (the base plus 4 steps a value,
so that every linear query on it succeeds: a refusal there costs about what two ``$..*`` do)."""

from __future__ import annotations

import json

from harness import durations, log, verdict

REFUSAL_TARGET_MS = 100.0


def _best_ms(action, runs: int) -> float:
    return round(min(durations(action, runs)) * 1000, 2)


def _refusal_ms(jsonpath, record, expression: str, base: int, runs: int) -> float:
    from openbin.errors import InvalidRequest

    def refused() -> None:
        try:
            jsonpath.query(record, expression, 256, base)
        except InvalidRequest:
            return
        raise AssertionError(f"{expression} was not refused")

    return _best_ms(refused, runs)


def bench_budgets(quick: bool) -> dict:
    import jsonpath_ng.jsonpath as jsonpath_ng
    import msgspec

    from openbin.bounded import budget, jsonpath
    from openbin.settings import Settings

    log("budgets: JSONPath queries and refusals ...")
    runs = 3 if quick else 7
    fields = msgspec.structs.fields(Settings)
    base = next(f.default for f in fields if f.name == "jsonpath_base_steps")
    large = [{"id": i, "name": f"user {i}", "tags": ["a", "b"]} for i in range(18_000)]
    tree = {"a": [{"a": [{"a": [{"a": list(range(20))} for _ in range(20)]} for _ in range(20)]}]}
    chain: object = "x"
    for _ in range(100):
        chain = {"x": chain}
    every = jsonpath._compile("$..*")

    def walk_every() -> None:
        with budget.metered(10**9):
            every.find(large)

    metered_ms = _best_ms(walk_every, runs)
    jsonpath_ng.DatumInContext.__init__ = jsonpath._original_init  # type: ignore[method-assign]
    try:
        unmetered_ms = _best_ms(walk_every, runs)
    finally:
        jsonpath_ng.DatumInContext.__init__ = jsonpath._metered_init  # type: ignore[method-assign]
    return {
        "base_steps": base,
        "every_value_1mb": {
            "bytes": len(json.dumps(large)),
            "values": jsonpath.count_values(large),
            "ms": _best_ms(lambda: jsonpath.query(large, "$..*", 256, base), runs),
            "walk_metered_ms": metered_ms,
            "walk_unmetered_ms": unmetered_ms,
        },
        "refusal_small": {
            "values": jsonpath.count_values(chain),
            "ms": _refusal_ms(jsonpath, chain, "$..*..*..*", base, runs),
            "target_ms": REFUSAL_TARGET_MS,
        },
        "refusal_8844_values": {
            "values": jsonpath.count_values(tree),
            "ms": _refusal_ms(jsonpath, tree, "$..*..*..*", base, runs),
            "every_value_ms": _best_ms(lambda: jsonpath.query(tree, "$..*", 256, base), runs),
        },
    }


def rows(results: dict) -> list[tuple[str, str, str, str]]:
    budgets = results.get("budgets")
    if not budgets:
        return []
    every = budgets["every_value_1mb"]
    small = budgets["refusal_small"]
    tree = budgets["refusal_8844_values"]
    overhead = every["walk_metered_ms"] / every["walk_unmetered_ms"]
    return [
        (
            "JSONPath $..* on a 1 MB record",
            f"{every['ms']:.0f} ms ({every['values']} values; the walk metered "
            f"{every['walk_metered_ms']:.0f} ms, unmetered {every['walk_unmetered_ms']:.0f} ms: "
            f"x{overhead:.2f})",
            "succeeds",
            "info",
        ),
        (
            "JSONPath refusal, small record (base budget)",
            f"{small['ms']:.1f} ms ({budgets['base_steps']} steps)",
            f"<= ~{small['target_ms']:.0f} ms",
            verdict(small["ms"] <= small["target_ms"]),
        ),
        (
            f"JSONPath refusal, {tree['values']} values",
            f"{tree['ms']:.1f} ms ($..* on it: {tree['every_value_ms']:.1f} ms)",
            "base + 4 steps a value",
            "info",
        ),
    ]
