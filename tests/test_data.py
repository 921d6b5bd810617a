"""The labelled data keeps the promises of data/README.md: valid, varied, no leaks."""

from collections import Counter
from pathlib import Path

import pytest

from nlp.data import (
    holdout_files,
    labelled_files,
    near_duplicates,
    read_labelled,
    split,
    template_skeleton,
)
from nlp.labels import KINDS, TOPICS, URGENCIES

DATA = Path(__file__).resolve().parents[1] / "data"
MINIMUM = 100
MINIMUM_CRITICAL = 150


def municipality_keys(code: str) -> set[str]:
    import csv

    [path] = [p for p in (DATA / "regions").glob(f"{code}-*.csv") if p.name.count(".") == 1]
    with open(path, encoding="utf-8") as f:
        return {row["key"] for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def labelled():
    records, problems = read_labelled(labelled_files(DATA), municipality_keys("52"))
    assert not problems, "\n".join(map(str, problems))
    return records


@pytest.fixture(scope="module")
def holdout():
    records, problems = read_labelled(holdout_files(DATA), municipality_keys("52"))
    assert not problems, "\n".join(map(str, problems))
    return records


def test_there_are_at_least_3000_distinct_labelled_messages(labelled):
    assert len(labelled) >= 3000
    assert len({r["text"] for r in labelled}) == len(labelled)


@pytest.mark.parametrize("task, values", [("kind", KINDS), ("topic", TOPICS), ("urgency", URGENCIES)])
def test_every_label_value_has_enough_examples(labelled, task, values):
    counts = Counter(r[task] for r in labelled)
    for value in values:
        needed = MINIMUM_CRITICAL if value == "critical" else MINIMUM
        assert counts[value] >= needed, f"{task}={value}: {counts[value]} examples, need {needed}"


def test_every_message_has_a_municipality_key_or_null(labelled):
    assert all("municipality" in r for r in labelled)


def test_no_two_labelled_messages_are_near_duplicates(labelled):
    texts = [r["text"] for r in labelled]
    pairs = near_duplicates(texts)
    shown = [f"{labelled[i]['id']} ~ {labelled[j]['id']} ({v})" for i, j, v in pairs[:10]]
    assert not pairs, f"{len(pairs)} near-duplicate pairs, e.g. {shown}"


def test_the_holdout_shares_no_message_with_the_training_data(labelled, holdout):
    if not holdout:
        pytest.skip("no holdout set in data/holdout")
    texts = [r["text"] for r in labelled] + [r["text"] for r in holdout]
    crossing = [(i, j) for i, j, _ in near_duplicates(texts) if i < len(labelled) <= j]
    assert not crossing, [(labelled[i]["id"], holdout[j - len(labelled)]["id"]) for i, j in crossing[:10]]
    assert not {r["id"] for r in labelled} & {r["id"] for r in holdout}


def test_at_most_a_fifth_of_the_messages_come_from_templates(labelled):
    families = Counter(template_skeleton(r["text"]) for r in labelled)
    templated = sum(n for n in families.values() if n >= 3)
    assert templated <= len(labelled) / 5


def test_the_test_split_is_fixed_and_at_least_a_fifth(labelled):
    train, test = split(labelled)
    assert len(test) >= 0.2 * len(labelled)
    assert split(list(reversed(labelled)))[1] == list(reversed(test))
    assert not {r["id"] for r in train} & {r["id"] for r in test}


@pytest.mark.parametrize("texts, expected", [
    (["госуслуги опять лежат", "Госуслуги  опять лежат"], 1),
    (["👍", "👍👍"], 0),
    (["😡😡😡", "😡😡😡"], 1),
    (["третий день нет воды на Гайдара", "в поликлинике нахамили в регистратуре"], 0),
])
def test_the_near_duplicate_check_handles_case_spaces_and_emoji(texts, expected):
    assert len(near_duplicates(texts)) == expected
