"""Regions as data: add one from CSV files, and read its municipality keys and time zone.

A region is ``data/regions/<code>-<slug>.csv`` (key,name,kind,center,note), optionally
``.settlements.csv`` (name,municipality[,kind]), ``.coords.csv`` (key,lat,lon) and
``.region.json`` (name, time zone). nlp.places.Gazetteer reads these files and
generates every case form, so a new region needs no code.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MUNICIPALITY_COLUMNS = ("key", "name", "kind", "center", "note")
SETTLEMENT_COLUMNS = ("name", "municipality")
COORD_COLUMNS = ("key", "lat", "lon")
# Kinds of municipal formations of the first level (131-ФЗ, art. 2).
MUNICIPALITY_KINDS = ("городской округ", "муниципальный округ", "муниципальный район",
                      "городской округ с внутригородским делением", "внутригородская территория")
CODE = re.compile(r"^\d{2,3}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_]*(-[a-z0-9_]+)*$")
DEFAULT_TIMEZONE = "Europe/Moscow"


class RegionError(Exception):
    """The region's files cannot be used; the message names the file, line and fix."""


@dataclass
class Region:
    code: str
    slug: str
    timezone: str
    name: str | None = None
    municipalities: list[dict] = field(default_factory=list)
    settlements: list[dict] = field(default_factory=list)
    coords: list[dict] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def _read(path: Path, required: tuple[str, ...], what: str) -> list[tuple[int, dict]]:
    """Rows of a UTF-8 CSV (comma or semicolon, BOM allowed) with their line numbers."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RegionError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise RegionError(f"{path}: not UTF-8; save the {what} as CSV UTF-8") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        raise RegionError(f"{path}: the {what} needs the columns {','.join(required)}; "
                          f"missing {', '.join(missing)} (header: {','.join(header) or 'empty'})")
    rows = []
    for row in reader:
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if any(clean.values()):
            rows.append((reader.line_num, clean))
    if not rows:
        raise RegionError(f"{path}: the {what} has no rows")
    return rows


def read_region(code: str, municipalities: Path, settlements: Path | None = None,
                coords: Path | None = None, *, slug: str | None = None,
                timezone: str | None = None, name: str | None = None) -> Region:
    """Validate a region's CSV files; every problem is reported at once, by line."""
    if not CODE.match(code):
        raise RegionError(f"region code {code!r}: expected the two- or three-digit code, e.g. 33")
    slug = slug or re.sub(rf"^{code}-", "", Path(municipalities).stem).lower()
    if not SLUG.match(slug):
        raise RegionError(f"slug {slug!r}: use Latin letters, digits and hyphens "
                          "(e.g. --slug vladimirskaya)")
    timezone = timezone or DEFAULT_TIMEZONE
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise RegionError(f"time zone {timezone!r} is unknown; use an IANA name such as "
                          "Europe/Moscow or Asia/Yekaterinburg") from None
    region = Region(code, slug, timezone, name)
    errors: list[str] = []
    keys: set[str] = set()
    for line, row in _read(municipalities, MUNICIPALITY_COLUMNS, "municipality list"):
        where = f"{municipalities}:{line}"
        if not row["key"] or not row["name"]:
            errors.append(f"{where}: key and name are required")
            continue
        if row["key"] in keys:
            errors.append(f"{where}: key {row['key']!r} appears twice")
        if row["kind"] not in MUNICIPALITY_KINDS:
            errors.append(f"{where}: kind {row['kind']!r} is not one of {', '.join(MUNICIPALITY_KINDS)}")
        if re.search(r"[^\w\s\-().,«»ё]", row["key"]):
            errors.append(f"{where}: key {row['key']!r} has characters a place name does not have")
        keys.add(row["key"])
        region.municipalities.append({c: row.get(c, "") for c in MUNICIPALITY_COLUMNS})
    if settlements:
        seen = set()
        for line, row in _read(settlements, SETTLEMENT_COLUMNS, "settlement list"):
            where = f"{settlements}:{line}"
            if not row["name"] or not row["municipality"]:
                errors.append(f"{where}: name and municipality are required")
            elif row["municipality"] not in keys:
                errors.append(f"{where}: municipality {row['municipality']!r} is not a key of "
                              f"{Path(municipalities).name}")
            elif (row["name"], row["municipality"]) in seen:
                errors.append(f"{where}: {row['name']!r} of {row['municipality']!r} appears twice")
            seen.add((row["name"], row["municipality"]))
            region.settlements.append({"name": row["name"], "municipality": row["municipality"],
                                       "kind": row.get("kind") or "settlement"})
    if coords:
        for line, row in _read(coords, COORD_COLUMNS, "coordinate list"):
            where = f"{coords}:{line}"
            try:
                lat, lon = float(row["lat"]), float(row["lon"])
            except ValueError:
                errors.append(f"{where}: lat and lon must be decimal degrees")
                continue
            if row["key"] not in keys:
                errors.append(f"{where}: {row['key']!r} is not a municipality key")
            elif not (-90 <= lat <= 90 and -180 <= lon <= 180):
                errors.append(f"{where}: coordinates out of range")
            region.coords.append({"key": row["key"], "lat": lat, "lon": lon})
    if errors:
        raise RegionError(f"{len(errors)} problem(s):\n" + "\n".join(errors))
    return region


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def existing(regions_dir: Path, code: str) -> list[Path]:
    return sorted(p for p in Path(regions_dir).glob(f"{code}-*.csv") if p.name.count(".") == 1)


def add_region(regions_dir: Path, region: Region, *, replace: bool = False) -> Region:
    """Write the region's files into `regions_dir` (each file replaced atomically)."""
    regions_dir = Path(regions_dir)
    regions_dir.mkdir(parents=True, exist_ok=True)
    found = existing(regions_dir, region.code)
    if found and not replace:
        raise RegionError(f"region {region.code} already exists ({found[0].name}); "
                          "use --replace to overwrite it")
    for old in found:  # a replaced region may come with a new slug
        for path in regions_dir.glob(f"{old.stem}.*"):
            path.unlink()
    stem = regions_dir / f"{region.code}-{region.slug}"
    main = stem.with_name(stem.name + ".csv")
    _write_csv(main, MUNICIPALITY_COLUMNS, region.municipalities)
    region.files = [main]
    if region.settlements:
        path = stem.with_name(stem.name + ".settlements.csv")
        _write_csv(path, ("name", "municipality", "kind"), region.settlements)
        region.files.append(path)
    if region.coords:
        path = stem.with_name(stem.name + ".coords.csv")
        _write_csv(path, COORD_COLUMNS, region.coords)
        region.files.append(path)
    meta = stem.with_name(stem.name + ".region.json")
    meta.write_text(json.dumps({"code": region.code, "name": region.name,
                                "timezone": region.timezone}, ensure_ascii=False, indent=2) + "\n",
                    encoding="utf-8")
    region.files.append(meta)
    return region


_KEYS: dict = {}


def municipality_keys(settings) -> set[str]:
    """The municipality keys of the configured region (re-read when the file changes)."""
    path = settings.region_csv
    stamp = (str(path), path.stat().st_mtime_ns)
    if stamp not in _KEYS:
        with open(path, encoding="utf-8") as f:
            _KEYS[stamp] = frozenset(row["key"] for row in csv.DictReader(f))
    return set(_KEYS[stamp])
