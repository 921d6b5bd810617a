"""Quality figures of a pipeline on labelled messages (the test split by default)."""

from __future__ import annotations

from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from .labels import ACTIONABLE_KINDS, TASKS

TARGETS = {
    "needs_reaction_recall": 0.97,
    "topic_accuracy": 0.85,
    "complaint_f1": 0.92,
    "kind_macro_f1": 0.85,
    "topic_macro_f1": 0.85,
    "municipality_accuracy": 0.95,
    "critical_recall": 0.95,
    "critical_precision": 0.75,
}


def task_report(task: str, gold: list[str], predicted: list[str]) -> dict:
    labels = list(TASKS[task])
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    return {
        "per_label": {
            label: {
                "precision": round(float(precision[i]), 3),
                "recall": round(float(recall[i]), 3),
                "f1": round(float(f1[i]), 3),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "macro_f1": round(float(f1_score(gold, predicted, labels=[lb for i, lb in enumerate(labels) if support[i]], average="macro", zero_division=0)), 3),
        "accuracy": round(sum(g == p for g, p in zip(gold, predicted, strict=True)) / max(len(gold), 1), 3),
        "labels": labels,
        "confusion": confusion_matrix(gold, predicted, labels=labels).tolist(),
    }


def evaluate(pipeline, records: list[dict]) -> dict:
    """Label `records` with `pipeline` and compare with their gold labels."""
    results = pipeline.label(
        [r["text"] for r in records],
        source_municipality=[r.get("source_municipality") for r in records],
        context=[r.get("context") for r in records],
        explain=False,
    )
    report = {"messages": len(records), "model_version": pipeline.version, "tasks": {}}
    for task in TASKS:
        gold = [r[task] for r in records]
        report["tasks"][task] = task_report(task, gold, [getattr(x, task) for x in results])
    gold_kind = [r["kind"] == "complaint" for r in records]
    predicted_kind = [x.kind == "complaint" for x in results]
    report["complaint_f1"] = round(float(f1_score(gold_kind, predicted_kind, zero_division=0)), 3)
    report["kind_macro_f1"] = report["tasks"]["kind"]["macro_f1"]
    report["topic_macro_f1"] = report["tasks"]["topic"]["macro_f1"]
    report["critical_recall"] = report["tasks"]["urgency"]["per_label"]["critical"]["recall"]
    report["critical_precision"] = report["tasks"]["urgency"]["per_label"]["critical"]["precision"]
    needing = [(r, x) for r, x in zip(records, results, strict=True) if r["kind"] in ACTIONABLE_KINDS]
    flagged = [x for x in results if x.kind in ACTIONABLE_KINDS]
    caught = sum(x.kind in ACTIONABLE_KINDS for _, x in needing)
    report["needs_reaction_recall"] = round(caught / max(len(needing), 1), 3)
    report["needs_reaction_precision"] = round(
        sum(r["kind"] in ACTIONABLE_KINDS for r, x in zip(records, results, strict=True) if x.kind in ACTIONABLE_KINDS)
        / max(len(flagged), 1), 3)
    # The topic a moderator routes by: right on the messages that need a reaction.
    report["topic_accuracy"] = round(sum(r["topic"] == x.topic for r, x in needing) / max(len(needing), 1), 3)
    with_place = [(r, x) for r, x in zip(records, results, strict=True) if "municipality" in r]
    report["municipality_accuracy"] = round(
        sum(r["municipality"] == x.municipality for r, x in with_place) / max(len(with_place), 1), 3
    )
    report["municipality_errors"] = [
        {"id": r.get("id"), "text": r["text"][:120], "gold": r["municipality"], "predicted": x.municipality}
        for r, x in with_place
        if r["municipality"] != x.municipality
    ][:50]
    report["targets"] = {
        name: {"target": target, "value": report[name], "met": report[name] >= target}
        for name, target in TARGETS.items()
    }
    return report


def format_report(report: dict) -> str:
    """The report as a terminal table."""
    lines = [f"{report['messages']} messages, model {report['model_version']}", ""]
    for task, figures in report["tasks"].items():
        lines.append(f"== {task}: macro-F1 {figures['macro_f1']:.3f}, accuracy {figures['accuracy']:.3f}")
        lines.append(f"   {'label':<16}{'prec':>7}{'recall':>8}{'F1':>7}{'n':>6}")
        for label, m in figures["per_label"].items():
            lines.append(f"   {label:<16}{m['precision']:>7.3f}{m['recall']:>8.3f}{m['f1']:>7.3f}{m['support']:>6}")
        lines.append("   confusion (rows gold, columns predicted):")
        short = [label[:6] for label in figures["labels"]]
        lines.append("   " + " " * 16 + "".join(f"{s:>7}" for s in short))
        for label, row in zip(figures["labels"], figures["confusion"], strict=True):
            lines.append(f"   {label:<16}" + "".join(f"{v:>7}" for v in row))
        lines.append("")
    lines.append(f"municipality accuracy {report['municipality_accuracy']:.3f}")
    lines.append(f"needs a reaction (complaint, question, suggestion): recall {report['needs_reaction_recall']:.3f},"
                 f" precision {report['needs_reaction_precision']:.3f}")
    lines.append(f"topic accuracy on the messages that need a reaction {report['topic_accuracy']:.3f}")
    lines.append("")
    lines.append("targets:")
    for name, t in report["targets"].items():
        mark = "ok " if t["met"] else "MISS"
        lines.append(f"   {mark} {name:<24}{t['value']:.3f}  (target ≥ {t['target']})")
    return "\n".join(lines)
