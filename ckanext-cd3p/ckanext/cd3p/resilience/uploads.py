"""Uploads when the storage is full or cannot be written to: a clear error, and nothing changed.

CKAN's ``ResourceUpload`` writes an uploaded file to its place (through a ``~`` file) in the middle
of ``resource_create`` or ``package_update``: after the dataset was changed in the session and, for a
new resource, after the dataset was indexed with it. A full disk there raises ``OSError``: the API
answers 500, the half-written ``~`` file stays, and the index lists a resource that was never saved.

:class:`StagedUpload` (our ``IUploader``) writes the whole file first, to ``incoming/`` beside the
stored files, when the uploader is made: both actions make it before they change anything. A write
that fails there is a ``ValidationError`` on ``upload`` (a 409 in the API, the form shown again with
the message), the partial file removed. Storing it afterwards is a rename on the same file system,
which needs no room. The previous file, its table and the dataset are left as they were; the same
upload succeeds once there is room again. A staged file no action took is removed with its uploader.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
import weakref
from typing import Any

from ckan.lib import uploader
from ckan.plugins import toolkit as tk

log = logging.getLogger(__name__)

# The errors of a storage with no room, and of one that cannot be written to.
FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
UNWRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}


def refusal(error: OSError) -> tk.ValidationError:
    """The error a user is shown for a file the storage could not take."""
    if error.errno in FULL:
        reason = tk._("The portal's file storage is full.")
    elif error.errno in UNWRITABLE:
        reason = tk._("The portal's file storage cannot be written to.")
    else:
        reason = tk._("The portal's file storage failed.")
    return tk.ValidationError(
        {
            "upload": [
                reason
                + " "
                + tk._("Nothing was changed: try again later, or tell the portal's administrators.")
            ]
        }
    )


def _discard(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


class StagedUpload(uploader.ResourceUpload):
    """CKAN's resource uploader, with the file written in full before anything changes."""

    staged: str | None = None

    def __init__(self, resource: dict[str, Any]) -> None:
        super().__init__(resource)
        if self.storage_path and self.filename:
            self.staged = self._stage()

    def _stage(self) -> str:
        incoming = os.path.join(str(self.storage_path), "incoming")
        path = None
        try:
            os.makedirs(incoming, exist_ok=True)
            handle, path = tempfile.mkstemp(dir=incoming, prefix="upload-")
            with os.fdopen(handle, "wb") as output:
                uploader._copy_file(self.upload_file, output, uploader.get_max_resource_size())
        except OSError as error:
            log.error("An upload could not be stored in %s: %s", incoming, error)
            if path:
                _discard(path)
            raise refusal(error) from error
        except tk.ValidationError:
            if path:
                _discard(path)
            raise
        finally:
            self.upload_file.close()
        # Removed with the uploader unless an action stored it (a refused action leaves nothing).
        weakref.finalize(self, _discard, path)
        return path

    def upload(self, id: str, max_size: int = 10) -> None:
        if self.staged is None:
            super().upload(id, max_size)  # no file (a link, or an upload cleared)
            return
        directory = self.get_directory(id)
        target = self.get_path(id)
        try:
            os.makedirs(directory, exist_ok=True)
            try:
                os.replace(self.staged, target)
            except OSError as error:
                if error.errno != errno.EXDEV:
                    raise
                # incoming/ on another file system: copied beside the target, then renamed.
                beside = target + "~"
                try:
                    shutil.copyfile(self.staged, beside)
                    os.replace(beside, target)
                finally:
                    _discard(beside)
                _discard(self.staged)
        except OSError as error:
            log.error("An upload could not be stored at %s: %s", target, error)
            raise refusal(error) from error
