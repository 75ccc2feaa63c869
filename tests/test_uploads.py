"""Uploaded files are never named by the client, are deleted after use, and the
road-upload folder stays within its bounds (issue 11, items 2 and 9)."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
CANDIDATES = b"candidate_id,name,lon,lat\nC1,new,117.62,26.27\nC2,other,117.40,26.10\n"
HOSTILE_NAMES = ("../../evil.csv", "/ABS/x.csv", "..\\..\\evil.csv", "a/../../../evil.csv")


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_candidate_upload_name_never_becomes_a_path(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A crafted multipart name (``../../evil.csv``, an absolute path) writes nothing
    outside the temporary folder; the file read is named by its sha256 and is gone after."""
    import planning.locate.candidates

    name = name.replace("/ABS", str(sandbox / "outside"))
    seen: list[tuple[Path, bytes]] = []
    real = planning.locate.candidates.read_candidates

    def spy(path, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((Path(path), Path(path).read_bytes()))
        return real(path, **kwargs)

    monkeypatch.setattr(planning.locate.candidates, "read_candidates", spy)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("ui/pages/suggest.py").run(timeout=120)
    at.file_uploader(key="sg_upload").upload(name, CANDIDATES, "text/csv").run(timeout=120)
    assert not at.exception, at.exception
    assert [p.name for p, _ in seen] == [hashlib.sha256(CANDIDATES).hexdigest() + ".csv"]
    used, data = seen[0]
    assert data == CANDIDATES
    assert used.resolve().is_relative_to(sandbox / "t/a")
    assert not used.exists() and not used.parent.exists()  # deleted after use
    assert not any("evil" in p.name or p.name == "x.csv" for p in _files(sandbox))
    assert _files(sandbox / "t") == set()


def _upload_road(name: str, data: bytes, mime: str) -> AppTest:
    """The coverage page after a road file called ``name`` was uploaded."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("ui/pages/coverage.py").run(timeout=120)
    at.file_uploader(key="cov_roads").upload(name, data, mime).run(timeout=120)
    return at


def test_road_upload_name_never_becomes_a_path_and_a_refused_one_is_removed(
    sandbox: Path,
) -> None:
    """A road file that cannot be used is deleted at once; its client name reaches no path."""
    at = _upload_road("../../../evil.geojson", b'{"type": "nothing"}', "application/geo+json")
    assert not at.exception, at.exception
    assert any("路网文件无法使用" in e.value for e in at.error), [e.value for e in at.error]
    assert "roads_path" not in at.session_state
    assert not any("evil" in p.name for p in _files(sandbox))
    roads = sandbox / "cache/servicenet/roads"
    assert _files(roads) == set(), _files(roads)


def test_road_upload_of_a_type_not_accepted_writes_nothing(sandbox: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("ui/pages/coverage.py").run(timeout=120)
    at.file_uploader(key="cov_roads").upload("../evil.bz2", b"BZh9", "application/x-bzip2").run(
        timeout=120
    )
    assert not at.exception, at.exception
    assert any("不接受这种文件类型" in e.value for e in at.error), [e.value for e in at.error]
    assert "roads_path" not in at.session_state
    assert _files(sandbox / "cache") == set()


def test_app_start_prunes_old_uploads_and_leftovers_of_killed_runs(sandbox: Path) -> None:
    """Road uploads past their age and temporary files of a killed run go when the app starts."""
    import streamlit as st

    roads = sandbox / "cache/servicenet/roads"
    (roads / ".servicenet-cache").mkdir(parents=True)
    old = time.time() - 90 * 86400
    digest = "ab" * 32
    stale = [
        roads / f"{digest}.osm.pbf",
        roads / ".servicenet-cache" / f"{digest}-0123456789abcdef01234567.json",
        roads / ".upload-killed.part",
    ]
    killed = sandbox / "t/a/servicenet-upload-killed"
    killed.mkdir()
    stale.append(killed / f"{digest}.csv")
    for path in stale:
        path.write_bytes(b"x" * 10)
        os.utime(path, (old, old))
    os.utime(killed, (old, old))
    fresh = roads / f"{'cd' * 32}.geojson"
    fresh.write_bytes(b"{}")
    st.cache_resource.clear()  # a fresh server process
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert [p for p in stale if p.exists()] == []
    assert not killed.exists()
    assert fresh.exists()


# ---------------------------------------------------------------- geo.uploads


def test_suffix_comes_from_the_allow_list_only() -> None:
    from geo.errors import UploadError
    from geo.uploads import ROAD_SUFFIXES, TABLE_SUFFIXES, safe_suffix

    assert safe_suffix("../../Evil.CSV", TABLE_SUFFIXES) == ".csv"
    assert safe_suffix("/etc/x.xlsx", TABLE_SUFFIXES) == ".xlsx"
    assert safe_suffix("fujian-latest.osm.pbf", ROAD_SUFFIXES) == ".osm.pbf"
    assert safe_suffix("roads.pbf", ROAD_SUFFIXES) == ".osm.pbf"
    assert safe_suffix("道路.zip", ROAD_SUFFIXES) == ".shp.zip"  # a zipped Shapefile, kept whole
    assert safe_suffix("x.csv\0../../y.osm", ROAD_SUFFIXES) == ".osm"  # only the ending counts
    for bad in ("x.osm\0", "x.osm/..", "x.sh", "x", "x.bz2", "x.osm "):
        with pytest.raises(UploadError) as info:
            safe_suffix(bad, ROAD_SUFFIXES)
        assert "不接受" in info.value.zh and "not accepted" in info.value.en


def test_temporary_upload_is_content_addressed_and_deleted_even_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo.uploads import TABLE_SUFFIXES, temporary_upload

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with temporary_upload("../../a.csv", b"abc", TABLE_SUFFIXES) as path:
        assert path.name == hashlib.sha256(b"abc").hexdigest() + ".csv"
        assert path.read_bytes() == b"abc"
        assert path.parent.parent == tmp_path
        assert (path.parent.stat().st_mode & 0o777) == 0o700
    assert _files(tmp_path) == set() and list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError), temporary_upload("b.csv", b"x", TABLE_SUFFIXES):
        raise RuntimeError("the reader failed")
    assert list(tmp_path.iterdir()) == []


def test_road_uploads_stay_within_size_and_age(tmp_path: Path) -> None:
    from geo.errors import UploadError
    from geo.uploads import UploadLimits, prune_road_uploads, store_road_upload

    limits = UploadLimits(max_bytes=2500, max_age_days=30)
    stored = []
    for i in range(5):
        data = bytes([i]) * 1000
        path = store_road_upload(f"../r{i}.geojson", data, folder=tmp_path, limits=limits)
        assert path.parent == tmp_path
        assert path.name == hashlib.sha256(data).hexdigest() + ".geojson"
        # a network built from it, as geo._roadcache names it
        cache = tmp_path / ".servicenet-cache" / f"{path.name[:64]}-{'0' * 24}.json"
        cache.parent.mkdir(exist_ok=True)
        cache.write_bytes(b"n" * 100)
        stored.append(path)
        then = time.time() - 100 + i  # strictly older to newer
        for file in (path, cache):
            os.utime(file, (then, then))
        total = sum(p.stat().st_size for p in _files(tmp_path))
        assert total <= limits.max_bytes + 1100  # the newest entry's cache is counted next time
    prune_road_uploads(tmp_path, limits)
    assert sum(p.stat().st_size for p in _files(tmp_path)) <= limits.max_bytes
    assert [p.exists() for p in stored] == [False, False, False, True, True]  # oldest went first
    # the same bytes again reuse the file and count as a fresh use
    again = store_road_upload("x.geojson", bytes([3]) * 1000, folder=tmp_path, limits=limits)
    assert again == stored[3] and again.stat().st_mtime > time.time() - 60
    # age: everything not uploaded for 30 days goes
    month = time.time() + 31 * 86400
    assert prune_road_uploads(tmp_path, limits, now=month) > 0
    assert _files(tmp_path) == set()
    with pytest.raises(UploadError):
        store_road_upload("big.gpkg", b"x" * 2501, folder=tmp_path, limits=limits)
    assert _files(tmp_path) == set()


def test_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from geo.uploads import UploadLimits

    monkeypatch.setenv("SERVICENET_UPLOAD_CACHE_MB", "10")
    monkeypatch.setenv("SERVICENET_UPLOAD_CACHE_DAYS", "nonsense")
    limits = UploadLimits.from_env()
    assert limits.max_bytes == 10 * 1024**2 and limits.max_age_days == UploadLimits().max_age_days


def test_remove_leaves_files_that_are_not_uploads(tmp_path: Path) -> None:
    from geo.uploads import remove_road_upload, store_road_upload

    uploads = tmp_path / "roads"
    own = tmp_path / ("ab" * 32 + ".osm.pbf")  # the user's own file, looks like one
    own.write_bytes(b"mine")
    assert remove_road_upload(own, folder=uploads) is False and own.exists()
    path = store_road_upload("r.geojson", b"{}", folder=uploads)
    assert remove_road_upload(path, folder=uploads) is True
    assert not path.exists()


def test_a_zipped_shapefile_is_kept_whole_and_read_in_place(tmp_path: Path) -> None:
    """A ``.zip`` upload is stored as ``<sha256>.shp.zip``, never unpacked (member names
    such as ``../x.shp`` never reach the disk), and GDAL reads it as it is."""
    import zipfile

    import geopandas as gpd

    from geo.roads import load_roads
    from geo.uploads import store_road_upload

    shp = tmp_path / "src/r.shp"
    shp.parent.mkdir()
    gpd.read_file(ROOT / "tests/data/roads/crossing.geojson").to_file(shp)
    archive = tmp_path / "r.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp.parent.iterdir():
            zf.write(part, part.name)
    uploads = tmp_path / "uploads"
    path = store_road_upload("../../道路.zip", archive.read_bytes(), folder=uploads)
    assert path.name.endswith(".shp.zip") and path.parent == uploads
    assert sorted(p.name for p in uploads.iterdir()) == [path.name]
    assert load_roads(path, cache=False).facts.nodes == 5


def test_a_refused_road_upload_is_named_as_uploaded_not_by_its_server_path(
    sandbox: Path,
) -> None:
    """Probe: GDAL's refusal of a road upload showed the file's path on the server
    (``…/cache/servicenet/roads/<sha256>.shp.zip``) to whoever uploaded it."""
    at = _upload_road("roads.zip", b"PK\x03\x04 not really a zip", "application/zip")
    assert not at.exception, at.exception
    shown = [e.value for e in at.error]
    assert any("路网文件无法使用" in e for e in shown), shown
    assert not any("servicenet" in e or str(sandbox) in e for e in shown), shown
    assert any("roads" in e for e in shown), shown
