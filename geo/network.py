"""The road network as arrays: the contract between road loaders and the travel engine.

A network is a set of straight *segments* between *nodes* in a metric CRS (the
UTM zone of the data). Each segment may be travelled forward (u → v), backward
(v → u) or both, with its own time in seconds each way; ``inf`` marks a
forbidden direction (one-way streets when driving). Keeping every OSM vertex as
a node keeps geometry exact: snapping is to straight segments and a partly
reachable segment is a straight sub-segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Mode = Literal["drive", "walk"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class NetworkFacts:
    """What was built and what was left out, for summaries and reports."""

    source: str
    source_kind: str  # "osm_pbf", "osm_xml", "graphml", "lines", "proxy"
    mode: Mode
    is_proxy: bool
    nodes: int
    segments: int
    length_km: float
    components_dropped: int = 0
    segments_dropped: int = 0
    length_dropped_km: float = 0.0
    speed_source: str = ""  # e.g. "maxspeed column, else highway class table"
    notes: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Facts as plain JSON-ready values."""
        return {
            "source": self.source,
            "source_kind": self.source_kind,
            "mode": self.mode,
            "is_proxy": self.is_proxy,
            "nodes": self.nodes,
            "segments": self.segments,
            "length_km": round(self.length_km, 3),
            "components_dropped": self.components_dropped,
            "segments_dropped": self.segments_dropped,
            "length_dropped_km": round(self.length_dropped_km, 3),
            "speed_source": self.speed_source,
            "notes": list(self.notes),
            **self.extra,
        }


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """Nodes and segments of one travel mode, in a metric CRS.

    Attributes
    ----------
    crs
        The metric CRS of ``x``/``y`` (e.g. ``"EPSG:32650"``).
    x, y
        Node coordinates in metres, shape (N,).
    u, v
        Segment end nodes, shape (S,).
    length_m
        Segment lengths in metres (> 0).
    forward_s, backward_s
        Seconds to travel u → v and v → u; ``inf`` where forbidden.
    dropped_xy
        Segments removed as outside the largest strongly connected component,
        as (D, 4) ``x0, y0, x1, y1``, kept to report points that would have
        snapped to them.
    facts
        What was built (counts, source, proxy flag).
    """

    crs: str
    x: FloatArray
    y: FloatArray
    u: IntArray
    v: IntArray
    length_m: FloatArray
    forward_s: FloatArray
    backward_s: FloatArray
    facts: NetworkFacts
    dropped_xy: FloatArray = field(default_factory=lambda: np.zeros((0, 4)))

    def __post_init__(self) -> None:
        n, s = len(self.x), len(self.u)
        if len(self.y) != n:
            raise ValueError("x and y differ in length")
        for name in ("v", "length_m", "forward_s", "backward_s"):
            if len(getattr(self, name)) != s:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries, expected {s}")
        if s and (self.u.min() < 0 or self.v.min() < 0 or max(self.u.max(), self.v.max()) >= n):
            raise ValueError("segment end outside the node range")
        if s and not np.all((self.length_m > 0) & np.isfinite(self.length_m)):
            raise ValueError("segments must have a positive, finite length")
        if not (np.isfinite(self.x).all() and np.isfinite(self.y).all()):
            # loaders refuse such files first (geo.roads.check_road_geometry)
            raise ValueError("node coordinates must be finite")

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.x)

    @property
    def n_segments(self) -> int:
        """Number of segments."""
        return len(self.u)
