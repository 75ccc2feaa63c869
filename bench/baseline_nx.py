"""The plain baseline a GIS analyst would write: load roads, snap to nodes, networkx per standard.

Run as a whole process by ``bench/bench_pipeline.py`` (by hand, not in CI)::

    uv run python bench/baseline_nx.py lines ROADS.gpkg SITES.csv DEMAND.csv STANDARDS.toml
    uv run python bench/baseline_nx.py pyrosm ROADS.osm.pbf SITES.csv DEMAND.csv STANDARDS.toml

``lines``: geopandas reads the line layer; every vertex is a node (rounded to
the centimetre), every pair of consecutive vertices an edge at the layer's
speed (a number in ``限速``/``maxspeed`` if it parses, else 30 km/h driving),
both ways. ``pyrosm``: pyrosm reads the PBF's driving network and turns it
into a networkx graph (its own speeds and one-way rules). Then for both:
demand and sites snap to their nearest node (a KD-tree), and each standard
runs one ``multi_source_dijkstra_path_length`` from its sites with the
standard's cutoff; the covered share is printed as JSON. This is the
straightforward script the pipeline is measured against, not servicenet's
model (which snaps to the nearest point on a segment and adds the walk).
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree

WALK_KPH = 5.0


def _speed(values: pd.Series) -> np.ndarray:
    num = pd.to_numeric(values.astype(str).str.extract(r"(\d+(?:\.\d+)?)")[0], errors="coerce")
    return num.fillna(30.0).clip(5, 130).to_numpy(dtype=float)


def lines_graphs(path: str, crs: str) -> tuple[dict[str, nx.Graph], np.ndarray, list]:
    import geopandas as gpd
    import shapely

    roads = gpd.read_file(path, engine="pyogrio").to_crs(crs)
    col = next((c for c in ("限速", "maxspeed", "speed") if c in roads), None)
    speed = _speed(roads[col]) if col else np.full(len(roads), 30.0)
    coords, which = shapely.get_coordinates(roads.geometry.to_numpy(), return_index=True)
    key = np.round(coords, 2)
    uniq, node = np.unique(key, axis=0, return_inverse=True)
    node = node.ravel()
    same = which[1:] == which[:-1]
    a, b = node[:-1][same], node[1:][same]
    length = np.hypot(*(coords[1:][same] - coords[:-1][same]).T)
    kph = speed[which[:-1][same]]
    graphs: dict[str, nx.Graph] = {}
    for mode, v in (("drive", kph), ("walk", np.full(len(kph), WALK_KPH))):
        g = nx.Graph()
        g.add_weighted_edges_from(
            zip(a.tolist(), b.tolist(), (length / (v / 3.6)).tolist(), strict=True)
        )
        graphs[mode] = g
    ids = list(range(len(uniq)))
    return graphs, uniq, ids


def pyrosm_graphs(path: str, crs: str) -> tuple[dict[str, nx.Graph], np.ndarray, list]:
    import pyrosm

    osm = pyrosm.OSM(path)
    nodes, edges = osm.get_network(network_type="driving", nodes=True)
    speed = _speed(edges["maxspeed"]) if "maxspeed" in edges else np.full(len(edges), 30.0)
    edges["drive_s"] = edges["length"].to_numpy(dtype=float) / (speed / 3.6)
    edges["walk_s"] = edges["length"].to_numpy(dtype=float) / (WALK_KPH / 3.6)
    graph = osm.to_graph(
        nodes,
        edges,
        graph_type="networkx",
        simplify_kwargs={"edge_attr_aggs": {"drive_s": sum, "walk_s": sum}},
    )
    nodes = nodes[nodes["id"].isin(set(graph.nodes))]  # simplification drops some
    ids = nodes["id"].tolist()
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(
        nodes["lon"].to_numpy(), nodes["lat"].to_numpy()
    )
    return {"drive": graph, "walk": graph}, np.column_stack([x, y]), ids


def main(argv: list[str]) -> int:
    kind, roads, sites_csv, demand_csv, standards_toml = argv
    sites = pd.read_csv(sites_csv)
    demand = pd.read_csv(demand_csv)
    stds = tomllib.loads(Path(standards_toml).read_text(encoding="utf-8"))["standard"]
    lon0 = float(demand["lon"].median())
    crs = f"EPSG:{32600 + int((lon0 + 180) // 6) + 1}"
    graphs, xy, ids = (lines_graphs if kind == "lines" else pyrosm_graphs)(roads, crs)
    to_m = Transformer.from_crs(4326, crs, always_xy=True)
    tree = cKDTree(xy)
    _, d_near = tree.query(np.column_stack(to_m.transform(demand["lon"], demand["lat"])))
    _, s_near = tree.query(np.column_stack(to_m.transform(sites["lon"], sites["lat"])))
    weight = demand["weight"].to_numpy(dtype=float)
    out = []
    for std in stds:
        g = graphs[std["mode"]]
        weight_key = f"{std['mode']}_s" if kind == "pyrosm" else "weight"
        mine = (sites["kind"] == std["kind"]) & (sites["level"] == std["level"])
        sources = {ids[i] for i in s_near[mine.to_numpy()]} & set(g.nodes)
        reached = (
            nx.multi_source_dijkstra_path_length(
                g, sources, cutoff=std["max_minutes"] * 60, weight=weight_key
            )
            if sources
            else {}
        )
        covered = np.array([ids[i] in reached for i in d_near])
        out.append(
            {
                "kind": std["kind"],
                "level": std["level"],
                "covered_share": float(weight[covered].sum() / weight.sum()),
            }
        )
    json.dump(out, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
