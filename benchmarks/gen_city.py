"""A generated city for the indicator benchmark: the files the demo loader and the geography read.

    .venv/bin/python benchmarks/gen_city.py var/bench-city --tracts 5000 [--seed 2026] [--force]

Writes a data folder with the same layout, file names and columns as the Detroit reference data
(``../shared/data/detroit``), so that ``ckanext.cd3p.data_dir`` can point at it:

- ``boundaries/city_boundary.geojson``: a square city split in a grid of ``--tracts`` cells (the last
  row is partly empty, like a lake);
- ``boundaries/wayne_tracts_tiger2010.geojson``: one polygon per tract (``GEOID``, ``NAMELSAD``,
  ``INTPTLAT``/``INTPTLON`` at the cell's centre, TIGER-style), plus a ring of tracts outside the
  city, as Wayne County has around Detroit;
- ``boundaries/neighborhoods.geojson``: about 200 neighbourhoods (``name``), blocks of tracts;
- ``boundaries/council_districts.geojson``: 7 districts (``district`` 1-7), strips of neighbourhoods;
- ``indicators/``: the tract indicator GeoJSON and the three CSVs ``ckan cd3p demo load`` uploads,
  with plausible random values (a smooth "need" surface plus noise; about 1% of tracts without
  ACS values and a few with fewer than 11 households, to keep the no-data and suppression paths busy).

Only what ``demo.py`` and ``geography.py`` need. Seeded and deterministic: the same arguments give
byte-identical files. When the folder already holds a city made with the same arguments, nothing is
written (``--force`` writes it again).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1  # bump when the generated files change shape, so existing folders are regenerated
MANIFEST = "gen_city.json"
STATE, COUNTY = "26", "999"  # Michigan, and a county code no real county has
ORIGIN_LON, ORIGIN_LAT = -83.45, 42.10  # south-west corner of the city
CELL = 0.01  # degrees per tract cell, both ways
DISTRICTS = 7
NEIGHBORHOOD_ROWS = 15  # x 14 columns (2 per district) = 210 neighbourhoods, as many as Detroit's 208
NEIGHBORHOOD_COLUMNS_PER_DISTRICT = 2

_FIRST = (
    "Arden", "Bagley", "Cedar", "Delray", "Elm", "Fairview", "Grandmont", "Harbor", "Island",
    "Jefferson", "Kercheval", "Linwood", "Marina", "North", "Oak",
)  # fmt: skip
_SECOND = (
    "Park", "Heights", "Village", "Square", "Gardens", "Hills", "Woods", "Grove", "Commons",
    "Point", "Meadows", "Ridge", "Court", "Estates",
)  # fmt: skip


@dataclass(frozen=True)
class Cell:
    """One tract: its grid position (column, row; the outside ring has -1 or the grid size)."""

    col: int
    row: int
    geoid: str
    tract_code: str  # 6 digits, e.g. "512345"
    inside: bool

    def polygon(self) -> dict[str, Any]:
        return _box(self.col, self.row, self.col + 1, self.row + 1)

    def centre(self) -> tuple[float, float]:
        return ORIGIN_LON + (self.col + 0.5) * CELL, ORIGIN_LAT + (self.row + 0.5) * CELL


def _lon(col: float) -> float:
    return round(ORIGIN_LON + col * CELL, 7)


def _lat(row: float) -> float:
    return round(ORIGIN_LAT + row * CELL, 7)


def _box(c0: float, r0: float, c1: float, r1: float) -> dict[str, Any]:
    ring = [
        [_lon(c0), _lat(r0)],
        [_lon(c1), _lat(r0)],
        [_lon(c1), _lat(r1)],
        [_lon(c0), _lat(r1)],
        [_lon(c0), _lat(r0)],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def _edges(total: int, parts: int) -> list[int]:
    """``parts + 1`` integer cut points splitting ``0..total`` into nearly equal runs."""
    return [round(i * total / parts) for i in range(parts + 1)]


def grid_shape(tracts: int) -> tuple[int, int]:
    """Columns and rows of the grid: square, the last row partly filled."""
    cols = math.ceil(math.sqrt(tracts))
    return cols, math.ceil(tracts / cols)


def cells(tracts: int) -> list[Cell]:
    """The city's tracts row by row from the south-west, then the ring of tracts around it."""
    cols, rows = grid_shape(tracts)
    found: list[Cell] = []

    def add(col: int, row: int, inside: bool) -> None:
        n = len(found) + 1
        # Census tract codes are 4 digits and a 2-digit suffix; city tracts 5xxx, the
        # ring around it 7xxx-8xxx.
        code = f"{(5000 if inside else 7000) + n // 100:04d}{n % 100:02d}"
        found.append(Cell(col, row, f"{STATE}{COUNTY}{code}", code, inside))

    for i in range(tracts):
        add(i % cols, i // cols, True)
    ring = [(c, -1) for c in range(-1, cols + 1)] + [(c, rows) for c in range(-1, cols + 1)]
    ring += [(-1, r) for r in range(rows)] + [(cols, r) for r in range(rows)]
    for col, row in ring:
        add(col, row, False)
    return found


def _tract_name(code: str) -> str:
    number = int(code[:4])
    suffix = int(code[4:])
    return f"Census Tract {number}" + (f".{suffix:02d}" if suffix else "")


def _names(count: int) -> list[str]:
    names = [f"{a} {b}" for b in _SECOND for a in _FIRST]
    if count > len(names):
        names += [f"Block {i:03d}" for i in range(count - len(names))]
    return names[:count]


def _collection(features: list[dict[str, Any]], crs: bool = False) -> str:
    out: dict[str, Any] = {"type": "FeatureCollection"}
    if crs:
        out["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    out["features"] = features
    return json.dumps(out, separators=(",", ":"))


def _feature(properties: dict[str, Any], geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def boundaries(tracts: int) -> dict[str, str]:
    """The four boundary files, by name."""
    cols, rows = grid_shape(tracts)
    city = _feature(
        {"name": "Gridville", "label": "City of Gridville (generated)", "type": "City"},
        _box(0, 0, cols, rows),
    )
    # Neighbourhoods: blocks of the grid, 2 block columns per district, 15 block rows (fewer in a
    # small city); districts are vertical strips, the union of their neighbourhoods.
    block_cols = DISTRICTS * (NEIGHBORHOOD_COLUMNS_PER_DISTRICT if cols >= 14 else 1)
    block_rows = min(NEIGHBORHOOD_ROWS, rows)
    xs, ys = _edges(cols, block_cols), _edges(rows, block_rows)
    names = iter(_names(block_cols * block_rows))
    hoods, districts = [], []
    per_district = block_cols // DISTRICTS
    for d in range(DISTRICTS):
        c0, c1 = xs[d * per_district], xs[(d + 1) * per_district]
        for j in range(d * per_district, (d + 1) * per_district):
            for k in range(block_rows):
                properties = {"OBJECTID": len(hoods) + 1, "name": next(names), "district": d + 1}
                hoods.append(_feature(properties, _box(xs[j], ys[k], xs[j + 1], ys[k + 1])))
        properties = {
            "district": d + 1,
            "name": f"Council District {d + 1}",
            "neighborhoods": per_district * block_rows,
        }
        districts.append(_feature(properties, _box(c0, 0, c1, rows)))
    tiger = []
    for cell in cells(tracts):
        lon, lat = cell.centre()
        properties = {
            "STATEFP": STATE,
            "COUNTYFP": COUNTY,
            "TRACTCE": cell.tract_code,
            "GEOID": cell.geoid,
            "NAME": _tract_name(cell.tract_code).removeprefix("Census Tract "),
            "NAMELSAD": _tract_name(cell.tract_code),
            "MTFCC": "G5020",
            "FUNCSTAT": "S",
            "ALAND": 1_000_000.0,
            "AWATER": 0.0,
            "INTPTLAT": f"{lat:+011.7f}",
            "INTPTLON": f"{lon:+012.7f}",
        }
        tiger.append(_feature(properties, cell.polygon()))
    return {
        "city_boundary.geojson": _collection([city]),
        "council_districts.geojson": _collection(districts),
        "neighborhoods.geojson": _collection(hoods),
        "wayne_tracts_tiger2010.geojson": _collection(tiger),
    }


def _clip(x: float, low: float, high: float) -> float:
    return min(high, max(low, x))


def indicators(tracts: int, seed: int) -> dict[str, str]:
    """The four indicator files, by name, with values for every tract (the ring too)."""
    rng = random.Random(seed)
    cols, rows = grid_shape(tracts)
    acs, oeps, poverty = [], [], []
    for cell in cells(tracts):
        # Need between 0 and 1: a few smooth hills over the city, plus noise.
        x, y = (cell.col + 0.5) / max(cols, 1), (cell.row + 0.5) / max(rows, 1)
        hills = math.sin(3.1 * x + 0.4) * math.cos(2.3 * y - 0.7) + 0.5 * math.sin(7.0 * x * y)
        need = _clip(0.5 + 0.3 * hills + rng.gauss(0, 0.12), 0.0, 1.0)
        population = rng.randint(600, 6500)
        if rng.random() < 0.005:
            population = rng.randint(5, 25)  # an almost empty tract: below the small-cell threshold
        households = max(1, round(population / rng.uniform(2.1, 3.0)))
        missing = rng.random() < 0.01  # no ACS values, as 4 of Detroit's tracts
        f_broadband = _clip(0.92 - 0.45 * need + rng.gauss(0, 0.04), 0.2, 0.99)
        f_computer = _clip(0.96 - 0.35 * need + rng.gauss(0, 0.03), 0.3, 0.995)
        f_ba = _clip(0.45 - 0.4 * need + rng.gauss(0, 0.05), 0.0, 0.9)
        mhi = round(_clip(95_000 - 80_000 * need + rng.gauss(0, 6000), 9000, 200_000))
        tests = round(rng.uniform(5, 400), 2)
        d_mbps = round(_clip(320 - 220 * need + rng.gauss(0, 40), 8, 900), 2)
        n_isp = round(_clip(4.2 - 2.2 * need + rng.gauss(0, 0.4), 0.5, 8), 3)
        acs_props: dict[str, Any] = {
            "geoid": cell.geoid,
            "n_isp": n_isp,
            "n_dn10": round(n_isp * rng.uniform(0.7, 1.0), 3),
            "n_dn100": round(n_isp * rng.uniform(0.3, 0.7), 3),
            "n_dn250": round(n_isp * rng.uniform(0.2, 0.5), 3),
            "n_fiber_100u": round(rng.uniform(0, 0.6), 3),
            "fiber_100u_exists": round(rng.uniform(0, 0.6), 3),
            "max_dn": rng.choice((300.0, 940.0, 1000.0, 2000.0)),
            "max_up": round(rng.uniform(10, 1000), 3),
            "f_broadband": round(f_broadband, 3),
            "f_computer": round(f_computer, 3),
            "f_ba": round(f_ba, 3),
            "f_black": round(rng.uniform(0.05, 0.97), 3),
            "f_hispanic": round(rng.uniform(0.0, 0.4), 3),
            "mhi": float(mhi),
            "log_mhi": round(math.log(mhi), 2),
            "population": float(population),
            "households": float(households),
            "tests": tests,
            "devices": round(tests * rng.uniform(0.3, 0.6), 2),
            "d_mbps": d_mbps,
            "u_mbps": round(d_mbps * rng.uniform(0.1, 0.6), 2),
            "lat_ms": round(rng.uniform(8, 40), 2),
            "tests_per_cap": round(tests / population, 3),
            "devices_per_cap": round(tests * 0.45 / population, 3),
        }
        if missing:
            for key in ("f_broadband", "f_computer", "f_ba", "mhi", "log_mhi"):
                acs_props[key] = None
        # Leftovers of a join with the city boundary, as the real file has (the loader drops them).
        acs_props.update({"index_right": 0, "FID": 1, "name": "Gridville", "type": "City"})
        acs.append(_feature(acs_props, cell.polygon()))
        no_internet = _clip((1 - f_broadband) * 70 + rng.gauss(0, 3), 0.5, 70)
        oeps.append(
            {
                "HEROP_ID": f"140US{cell.geoid}",
                "FIPS": cell.geoid,
                "RxMinDis": round(rng.uniform(0.1, 5), 2),
                "RxTmDr": round(rng.uniform(0, 20), 2),
                "RxCntDr": rng.randint(0, 150),
                "NoIntP": round(no_internet, 2),
            }
        )
        pov_missing = missing or rng.random() < 0.005
        poverty.append(
            {
                "GEOID": cell.geoid,
                "year": 2018,
                "unempP": "NA" if pov_missing else round(_clip(4 + 25 * need + rng.gauss(0, 3), 0, 60), 1),
                "povP": "NA" if pov_missing else round(_clip(8 + 50 * need + rng.gauss(0, 5), 0, 90), 1),
                "pciE": "NA" if pov_missing else round(_clip(40_000 - 30_000 * need, 6000, 90_000)),
            }
        )
    zips = []
    for i in range(max(10, tracts // 25)):  # one ZIP code per ~25 tracts
        usage = rng.uniform(0.1, 0.9)
        zips.append(
            {
                "ST": "MI",
                "COUNTY NAME": "Gridville",
                "COUNTY ID": f"{STATE}{COUNTY}",
                "POSTAL CODE": f"{49000 + i:05d}",
                "BROADBAND USAGE": round(usage, 3),
                "ERROR RANGE (MAE)(+/-)": round(rng.uniform(0.001, 0.05), 3),
                "ERROR RANGE (95%)(+/-)": round(rng.uniform(0.005, 0.15), 3),
                "MSD": round(rng.uniform(0, 0.01), 3),
            }
        )
    return {
        "tracts_acs2015_2019_fcc_ookla.geojson": _collection(acs, crs=True),
        "oeps_tract_2019_no_internet.csv": _csv(oeps, quote="text"),
        "michigan_tracts_acs2014_2018_poverty_unemployment.csv": _csv(poverty, quote="text"),
        "microsoft_broadband_usage_zip_2020.csv": _csv(zips),
    }


def _csv(rows: list[dict[str, Any]], quote: str = "none") -> str:
    """CSV quoted as the source files are: the OEPS and GeoDa files (written by R) quote text but leave
    numbers and NA bare ("text"), Microsoft's quotes nothing ("none"), "all" quotes every cell."""

    def cell(value: Any, header: bool = False) -> str:
        if value is None:
            return ""
        if quote == "all" or (quote == "text" and isinstance(value, str) and (header or value != "NA")):
            return f'"{value}"'
        return str(value)

    lines = [",".join(cell(k, header=True) for k in rows[0])]
    lines += [",".join(cell(v) for v in row.values()) for row in rows]
    return "\n".join(lines) + "\n"


def generate(outdir: Path, tracts: int, seed: int, force: bool = False) -> bool:
    """Writes the city into ``outdir``; returns False when an identical one is already there."""
    if not 49 <= tracts <= 99_000:
        raise ValueError("a city has 49 (7 x 7) to 99,000 tracts")
    wanted = {"format": FORMAT, "tracts": tracts, "seed": seed}
    manifest = outdir / MANIFEST
    if not force and manifest.is_file():
        try:
            if json.loads(manifest.read_text()) == wanted:
                return False
        except ValueError:
            pass
    files = {f"boundaries/{n}": t for n, t in boundaries(tracts).items()}
    files.update({f"indicators/{n}": t for n, t in indicators(tracts, seed).items()})
    manifest.unlink(missing_ok=True)  # written last: an interrupted run is not taken for a city
    for name, text in files.items():
        path = outdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    (outdir / "SOURCES.md").write_text(
        f"# Generated city ({tracts} tracts, seed {seed})\n\n"
        "Made by benchmarks/gen_city.py for the indicator benchmark. Every value is random; the layout,\n"
        "file names and columns are those of the Detroit reference data. Safe to delete.\n",
        encoding="utf-8",
    )
    manifest.write_text(json.dumps(wanted) + "\n", encoding="utf-8")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--tracts", type=int, default=5000, help="census tracts inside the city")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--force", action="store_true", help="write the files even if they are there")
    args = parser.parse_args()
    start = time.perf_counter()
    made = generate(args.outdir, args.tracts, args.seed, args.force)
    if made:
        print(
            f"gen_city: {args.tracts} tracts written to {args.outdir} "
            f"in {time.perf_counter() - start:.1f} s (seed {args.seed})"
        )
    else:
        print(f"gen_city: {args.outdir} already holds the {args.tracts}-tract city (seed {args.seed})")


if __name__ == "__main__":
    main()
