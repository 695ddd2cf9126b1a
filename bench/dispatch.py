"""Bench for issues 6 and 17 (point 15): the dispatch suggester against the plain alternatives,
in one run.

    .venv/bin/python bench/dispatch.py [--seeds 3] [--train-per-dept 30] [--test-per-dept 12]
                                       [--markdown]

Part 1, requests in people's phrasing (issue 17): trained on sizhen/dispatch/data/train.csv
(415 hand-written requests) with the shipped default catalogue, scored on heldout.csv (722
hand-written requests, never used for tuning) and, for reference, on dev.csv (300, the set the
catalogue and the model were tuned on): sizhen, catalogue only, history only, and the plain
character n-gram baseline; latency per suggestion (median/p95/p99) for sizhen and the baseline.

Part 2, synthetic requests (issue 6):

On the synthetic requests of sizhen/dispatch/synthetic.py (training and test drawn from disjoint
sentence frames, complaints and asides, 40 % of test matters worded in ways training never uses),
with the shipped default catalogue as if every department existed on the platform:

- sizhen: jieba words + char 1–3-grams, linear SVM on history + catalogue pseudo-examples,
  keyword prior, aside clauses dropped (the platform's suggester);
- ablations: without the aside rule; catalogue without its keyword lists (duties and typical
  matters only); history only (no catalogue);
- catalogue only (day one, no history);
- baseline: plain char 1–3-gram TF-IDF linear SVM on history.

Reports top-1/top-3/macro-F1 for department and category (mean over seeds) and inference latency
per request (median/p95/p99), training time, jieba's first load.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()


def _latency(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]

    return {"median": statistics.median(ordered), "p95": at(0.95), "p99": at(0.99)}


def run_handwritten() -> dict[str, Any]:
    """Part 1: the hand-written sets, default catalogue labelled by official names."""
    from sizhen.dispatch import catalogue, engine, evaluation

    department_docs = evaluation.default_department_docs()
    category_docs = catalogue.category_docs()
    train = evaluation.read_rows(catalogue.DATA_DIR / "train.csv")
    texts = [r.text for r in train]
    depts = [r.dept for r in train]
    cats = [r.category for r in train]
    tick = time.perf_counter()
    model = engine.Suggester.fit(
        texts, depts, cats, department_docs=department_docs, category_docs=category_docs
    )
    train_seconds = time.perf_counter() - tick
    history = engine.Suggester.fit(texts, depts, cats)
    day_one = engine.CatalogueOnly(department_docs)
    baseline = engine.Baseline().fit(texts, depts)
    results: dict[str, dict[str, dict[str, float]]] = {}
    latencies: dict[str, dict[str, float]] = {}
    for name in ("heldout", "dev"):
        test = evaluation.read_rows(catalogue.DATA_DIR / f"{name}.csv")
        truth = [r.dept for r in test]
        timed: dict[str, list[float]] = {"sizhen": [], "sizhen cpu": [], "baseline": []}
        ranked: dict[str, list[list[Any]]] = {"sizhen": [], "baseline": []}
        for row in test:
            started = time.perf_counter()
            cpu = time.process_time()
            ranked["sizhen"].append(model.predict(row.text)[0])
            timed["sizhen cpu"].append((time.process_time() - cpu) * 1000)
            timed["sizhen"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            ranked["baseline"].append(baseline.predict(row.text))
            timed["baseline"].append((time.perf_counter() - started) * 1000)
        results[name] = {
            "sizhen": engine.score(truth, ranked["sizhen"]),
            "catalogue only (day one)": engine.score(
                truth, [day_one.predict(r.text) for r in test]
            ),
            "history only (no catalogue)": engine.score(
                truth, [history.predict(r.text)[0] for r in test]
            ),
            "baseline char n-gram": engine.score(truth, ranked["baseline"]),
        }
        if name == "heldout":
            latencies = {key: _latency(values) for key, values in timed.items()}
    return {
        "results": results,
        "latency": latencies,
        "train_seconds": train_seconds,
        "n_train": len(train),
    }


def run(seeds: int, train_per: int, test_per: int, jieba_seconds: float) -> dict[str, Any]:
    from sizhen.dispatch import catalogue, engine, synthetic

    department_docs = [
        engine.CatalogueDoc(
            label=row.name,
            name=row.name,
            short_name=row.short_name,
            responsibilities=row.responsibilities,
            matters=row.matters,
            keywords=row.keywords,
        )
        for row in catalogue.default_rows()
    ]
    category_docs = catalogue.category_docs()
    results: dict[str, dict[str, list[float]]] = {}
    latencies: dict[str, list[float]] = {"sizhen": [], "baseline": [], "sizhen cpu": []}
    train_seconds: list[float] = []
    confidence: list[float] = []

    def add(name: str, target: str, metrics: dict[str, float]) -> None:
        block = results.setdefault(f"{name}|{target}", {})
        for key in ("top1", "top3", "macro_f1"):
            block.setdefault(key, []).append(metrics[key])

    for seed in range(seeds):
        train = synthetic.generate("train", per_department=train_per, seed=seed)
        test = synthetic.generate("test", per_department=test_per, seed=seed)
        texts = [r.text for r in train]
        depts = [r.dept for r in train]
        cats = [r.category for r in train]
        truth_d = [r.dept for r in test]
        truth_c = [r.category for r in test]

        tick = time.perf_counter()
        model = engine.Suggester.fit(
            texts, depts, cats, department_docs=department_docs, category_docs=category_docs
        )
        train_seconds.append(time.perf_counter() - tick)
        ranked_d, ranked_c = [], []
        for row in test:
            tick = time.perf_counter()
            cpu = time.process_time()
            d, c = model.predict(row.text)
            latencies["sizhen cpu"].append((time.process_time() - cpu) * 1000)
            latencies["sizhen"].append((time.perf_counter() - tick) * 1000)
            ranked_d.append(d)
            ranked_c.append(c)
        add("sizhen", "dept", engine.score(truth_d, ranked_d))
        confidence.append(statistics.mean(r[0].confidence for r in ranked_d))
        add("sizhen", "cat", engine.score(truth_c, ranked_c))

        engine.USE_FOCUS = False
        try:
            plain = engine.Suggester.fit(
                texts, depts, cats, department_docs=department_docs, category_docs=category_docs
            )
            preds = [plain.predict(r.text) for r in test]
        finally:
            engine.USE_FOCUS = True
        add("without aside rule", "dept", engine.score(truth_d, [p[0] for p in preds]))
        add("without aside rule", "cat", engine.score(truth_c, [p[1] for p in preds]))

        # The catalogue's keyword lists are the part most shaped by whoever wrote them (here the
        # same author as the generator); without them only 三定 duties and 权责清单 matters remain.
        duties_only = [dataclasses.replace(d, keywords=[]) for d in department_docs]
        cat_names = [dataclasses.replace(d, keywords=[]) for d in category_docs]
        lean = engine.Suggester.fit(
            texts, depts, cats, department_docs=duties_only, category_docs=cat_names
        )
        preds = [lean.predict(r.text) for r in test]
        add("catalogue without keywords", "dept", engine.score(truth_d, [p[0] for p in preds]))
        add("catalogue without keywords", "cat", engine.score(truth_c, [p[1] for p in preds]))

        history = engine.Suggester.fit(texts, depts, cats)
        preds = [history.predict(r.text) for r in test]
        add("history only (no catalogue)", "dept", engine.score(truth_d, [p[0] for p in preds]))
        add("history only (no catalogue)", "cat", engine.score(truth_c, [p[1] for p in preds]))

        day_one = engine.Suggester.fit(
            [], [], [], department_docs=department_docs, category_docs=category_docs, tune=False
        )
        preds = [day_one.predict(r.text) for r in test]
        add("catalogue only (day one)", "dept", engine.score(truth_d, [p[0] for p in preds]))
        add("catalogue only (day one)", "cat", engine.score(truth_c, [p[1] for p in preds]))

        base_d = engine.Baseline().fit(texts, depts)
        base_c = engine.Baseline().fit(texts, cats)
        ranked = []
        for row in test:
            tick = time.perf_counter()
            ranked.append(base_d.predict(row.text))
            latencies["baseline"].append((time.perf_counter() - tick) * 1000)
        add("baseline char n-gram", "dept", engine.score(truth_d, ranked))
        add(
            "baseline char n-gram",
            "cat",
            engine.score(truth_c, [base_c.predict(r.text) for r in test]),
        )

    return {
        "results": {
            k: {m: statistics.mean(v) for m, v in block.items()} for k, block in results.items()
        },
        "latency": {name: _latency(values) for name, values in latencies.items()},
        "train_seconds": statistics.mean(train_seconds),
        "mean_top1_confidence": statistics.mean(confidence),
        "jieba_seconds": jieba_seconds,
        "n_train": train_per * len(synthetic.DEPARTMENTS),
        "n_test": test_per * len(synthetic.DEPARTMENTS),
        "departments": len(synthetic.DEPARTMENTS),
        "categories": len({t.category for t in synthetic.topics()}),
    }


def _table(
    headers: list[str], short: list[str], rows: list[tuple[str, list[float]]], markdown: bool
) -> list[str]:
    if markdown:
        lines = ["| model | " + " | ".join(headers) + " |", "|---" * (len(headers) + 1) + "|"]
    else:
        lines = [f"{'model':<30}" + "".join(f"{h:>8}" for h in short)]
    for name, cells in rows:
        if markdown:
            lines.append(f"| {name} | " + " | ".join(f"{v:.1%}" for v in cells) + " |")
        else:
            lines.append(f"{name:<30}" + "".join(f"{v:>8.1%}" for v in cells))
    return lines


def _latency_lines(latencies: dict[str, dict[str, float]], markdown: bool, what: str) -> list[str]:
    return [
        f"{'- ' if markdown else ''}{'CPU time' if 'cpu' in name else 'latency'} {what}{name}: "
        f"median {latency['median']:.2f} ms, p95 {latency['p95']:.2f} ms, "
        f"p99 {latency['p99']:.2f} ms"
        for name, latency in latencies.items()
    ]


def render(report: dict[str, Any], markdown: bool) -> str:
    names = [
        "sizhen",
        "without aside rule",
        "catalogue without keywords",
        "history only (no catalogue)",
        "catalogue only (day one)",
        "baseline char n-gram",
    ]
    rows = []
    for name in names:
        d = report["results"][f"{name}|dept"]
        c = report["results"][f"{name}|cat"]
        rows.append((name, [d["top1"], d["top3"], d["macro_f1"], c["top1"], c["top3"]]))
    lines = _table(
        ["dept top-1", "dept top-3", "dept macro-F1", "category top-1", "category top-3"],
        ["d top1", "d top3", "d F1", "c top1", "c top3"],
        rows,
        markdown,
    )
    lines.append("")
    lines += _latency_lines(report["latency"], markdown, "per request, ")
    lines.append(
        f"{'- ' if markdown else ''}calibration: mean top-1 confidence of sizhen's department "
        f"suggestion {report['mean_top1_confidence']:.1%} against its top-1 accuracy "
        f"{report['results']['sizhen|dept']['top1']:.1%}"
    )
    lines.append(
        f"{'- ' if markdown else ''}training (both heads, 5-fold tuning): "
        f"{report['train_seconds']:.1f} s on {report['n_train']} requests; jieba first load "
        f"{report['jieba_seconds']:.2f} s; test {report['n_test']} requests, "
        f"{report['departments']} departments, {report['categories']} categories"
    )
    return "\n".join(lines)


def render_handwritten(report: dict[str, Any], markdown: bool) -> str:
    rows = []
    for name, held in report["results"]["heldout"].items():
        dev = report["results"]["dev"][name]
        rows.append(
            (name, [held["top1"], held["top3"], held["macro_f1"], dev["top1"], dev["top3"]])
        )
    lines = _table(
        ["held-out top-1", "held-out top-3", "held-out macro-F1", "dev top-1", "dev top-3"],
        ["h top1", "h top3", "h F1", "d top1", "d top3"],
        rows,
        markdown,
    )
    lines.append("")
    lines += _latency_lines(report["latency"], markdown, "per suggestion on held-out, ")
    lines.append(
        f"{'- ' if markdown else ''}training (both heads, 5-fold tuning): "
        f"{report['train_seconds']:.1f} s on {report['n_train']} requests"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--train-per-dept", type=int, default=30)
    parser.add_argument("--test-per-dept", type=int, default=12)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    setup()
    from sizhen.dispatch import engine

    started = time.perf_counter()
    engine.tokenizer()
    jieba_seconds = time.perf_counter() - started
    print("Part 1 — requests in people's phrasing (hand-written sets)\n")
    print(render_handwritten(run_handwritten(), args.markdown))
    print("\nPart 2 — synthetic requests\n")
    report = run(args.seeds, args.train_per_dept, args.test_per_dept, jieba_seconds)
    print(render(report, args.markdown))


if __name__ == "__main__":
    main()
