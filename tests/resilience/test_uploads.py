"""A full or unwritable file storage during an upload (``resilience/uploads.py``): a clear error,
the previous file, its table and the dataset untouched, and the same upload taken once there is room.

The storage is real: a small tmpfs mounted on the storage's ``incoming/`` directory, where an upload
is written in full before anything changes. Mounting needs root, as this machine runs its tests;
elsewhere these tests are skipped, saying so.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from ckanext.cd3p.common import geography
from tests import factories
from tests.helpers import wait_for_load

pytestmark = [
    pytest.mark.usefixtures("with_plugins", "clean_datastore", "clean_index"),
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small file system for the storage needs root"),
]

TRACTS = sorted(geography.tracts())[:4]
FIRST = ("geoid,households\n" + "".join(f"{g},{100 + i}\n" for i, g in enumerate(TRACTS))).encode()
# A new file of 96 KB (the storage is left 16 KB): the disk fills up in the middle of writing it.
SECOND = ("geoid,households\n" + "".join(f"{TRACTS[i % 4]},{i}\n" for i in range(6000))).encode()
FULL = (
    "The portal's file storage is full. Nothing was changed: try again later, or tell the portal's "
    "administrators."
)
UNWRITABLE = (
    "The portal's file storage cannot be written to. Nothing was changed: try again later, or tell "
    "the portal's administrators."
)


def incoming() -> Path:
    return Path(tk.config["ckan.storage_path"]) / "resources" / "incoming"


@contextlib.contextmanager
def mounted(size_kb: int, read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of ``size_kb`` on the storage's ``incoming/``, for the test only."""
    where = incoming()
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size_kb}k" + (",ro" if read_only else "")
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "cd3p-test", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


def fill(where: Path, leave_kb: int) -> Path:
    """Fills the file system but for ``leave_kb``, with one file (removed to make room again)."""
    filler = where / "filler"
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(handle, b"\0" * 4096)
    except OSError as e:
        assert e.errno == errno.ENOSPC
    finally:
        os.close(handle)
    size = filler.stat().st_size
    os.truncate(filler, size - leave_kb * 1024)
    return filler


def stored(resource_id: str) -> Path:
    return (
        Path(tk.config["ckan.storage_path"])
        / "resources"
        / resource_id[:3]
        / resource_id[3:6]
        / resource_id[6:]
    )


@pytest.fixture
def loaded(partner: dict[str, Any], put: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A partner's public table, uploaded by its editor, checked and loaded by the real worker."""
    dataset = factories.Dataset(owner_org=partner["org"]["id"], access_level="public")
    resource = put(FIRST, "tracts.csv", dataset, geo_key_column="geoid", geo_key_level="tract")
    check = wait_for_load(resource["id"])
    assert check["report"]["load"]["state"] == "complete"
    shown = call_action("resource_show", id=resource["id"])
    return {"editor": partner["editor"], "dataset": dataset, "resource": shown, "check": check}


def patch(app: Any, token: str, resource_id: str, data: bytes) -> Any:
    return app.post(
        "/api/action/resource_patch",
        headers={"Authorization": token},
        data={"id": resource_id, "upload": (io.BytesIO(data), "tracts-2026.csv")},
    )


def rows(resource_id: str) -> list[tuple[str, int]]:
    found = call_action("datastore_search", resource_id=resource_id, sort="_id", limit=10000)["records"]
    return [(r["geoid"], r["households"]) for r in found]


def indexed_resources(dataset_id: str) -> int:
    found = call_action("package_search", {"ignore_auth": True}, fq=f"id:{dataset_id}")["results"]
    return found[0]["num_resources"]


def test_a_full_storage_refuses_a_new_file_with_a_clear_error_and_changes_nothing(
    app: Any, loaded: dict[str, Any]
) -> None:
    resource, token = loaded["resource"], loaded["editor"]["token"]
    before_rows = rows(resource["id"])
    assert before_rows == [(g, 100 + i) for i, g in enumerate(TRACTS)]

    with mounted(112) as where:
        filler = fill(where, leave_kb=16)
        response = patch(app, token, resource["id"], SECOND)

        assert response.status_code == 409
        assert response.json["error"] == {"__type": "Validation Error", "upload": [FULL]}
        # The half-written file is gone: the storage holds what it held.
        assert sorted(p.name for p in where.iterdir()) == ["filler"]
        # The previous file, its table, the resource and the index are as they were.
        assert stored(resource["id"]).read_bytes() == FIRST
        download = app.get(
            f"/dataset/{loaded['dataset']['id']}/resource/{resource['id']}/download/tracts.csv"
        )
        assert download.status_code == 200 and download.get_data() == FIRST
        assert rows(resource["id"]) == before_rows
        after = call_action("resource_show", id=resource["id"])
        assert {k: after[k] for k in ("url", "size", "last_modified", "metadata_modified")} == {
            k: resource[k] for k in ("url", "size", "last_modified", "metadata_modified")
        }
        assert indexed_resources(loaded["dataset"]["id"]) == 1

        # Room again: the same upload is taken (from incoming/ on its own file system, here).
        filler.unlink()
        response = patch(app, token, resource["id"], SECOND)
        assert response.status_code == 200, response.body
        assert response.json["result"]["url"].endswith("/tracts-2026.csv")
        assert list(where.iterdir()) == []
    assert stored(resource["id"]).read_bytes() == SECOND
    check = wait_for_load(resource["id"], after=loaded["check"]["id"])
    assert check["report"]["load"]["state"] == "complete"
    assert len(rows(resource["id"])) == 6000


def test_an_unwritable_storage_refuses_a_new_resource_and_the_dataset_is_unchanged(
    app: Any, loaded: dict[str, Any]
) -> None:
    dataset, token = loaded["dataset"], loaded["editor"]["token"]
    before = call_action("package_show", id=dataset["id"])

    with mounted(64, read_only=True):
        response = app.post(
            "/api/action/resource_create",
            headers={"Authorization": token},
            data={"package_id": dataset["id"], "url": "more.csv", "upload": (io.BytesIO(FIRST), "more.csv")},
        )

    assert response.status_code == 409
    assert response.json["error"] == {"__type": "Validation Error", "upload": [UNWRITABLE]}
    after = call_action("package_show", id=dataset["id"])
    assert [r["id"] for r in after["resources"]] == [loaded["resource"]["id"]]
    assert after["metadata_modified"] == before["metadata_modified"]
    assert indexed_resources(dataset["id"]) == 1
