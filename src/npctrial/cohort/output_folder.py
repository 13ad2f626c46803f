"""The report folder: never overwrite what npctrial did not write; replace a previous report atomically.

Rules:

1. ``--out`` must be a path that does not exist yet, an empty folder, or a previous npctrial
   report: a folder holding ``npctrial-manifest.json`` (written by npctrial, listing every file
   it wrote with its SHA-256) and nothing else than the files listed there, unmodified.
2. Refused with a :class:`~npctrial.errors.ValidationError` (``field="out"``): a file, a
   symbolic link, the current folder or one of its parents, a folder holding an input file
   (the cohort, the config), a folder with any file that the manifest does not list or whose
   content changed since it was written.
3. :func:`staged_output` writes the report into a staging folder next to ``--out``, named
   ``.npctrial-staging-<name>-<pid>-<token>`` and holding the marker file
   ``.npctrial-staging``. When every file is written, the manifest is added, the marker
   removed, and the staging folder takes the place of ``--out`` in one step (Linux
   ``renameat2(RENAME_EXCHANGE)``; two renames elsewhere). The previous report is then deleted
   file by file from its manifest, so a file npctrial did not write is never deleted.
4. A run that is killed leaves its staging folder behind; the next run in the same parent folder
   removes it, recognised by its name, its marker (or a valid manifest) and a process id that
   is no longer running. Folders that merely look similar are left alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from npctrial.errors import ValidationError

MANIFEST = "npctrial-manifest.json"
MARKER = ".npctrial-staging"
_GENERATOR = "npctrial"
_STAGING = re.compile(r"^\.npctrial-(staging|replaced)-(?P<name>.+)-(?P<pid>\d+)-(?P<token>[0-9a-f]{12})$")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(folder: Path) -> list[str]:
    """Every non-directory entry under ``folder`` (symbolic links included), as POSIX relative paths."""
    out = []
    for root, dirs, names in os.walk(folder):
        base = Path(root)
        for d in list(dirs):
            if (base / d).is_symlink():
                out.append((base / d).relative_to(folder).as_posix())
                dirs.remove(d)
        out += [(base / n).relative_to(folder).as_posix() for n in names]
    return sorted(out)


def read_manifest(folder: Path) -> dict[str, str] | None:
    """The ``{relative path: sha256}`` map of an npctrial report folder, or None when it has no
    readable npctrial manifest."""
    path = folder / MANIFEST
    if not path.is_file() or path.is_symlink():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if data.get("generator") != _GENERATOR or not isinstance(files, dict):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        return None
    return files


def write_manifest(folder: Path, kind: str) -> Path:
    """List every file of ``folder`` with its SHA-256 in ``npctrial-manifest.json`` (deterministic)."""
    files = {rel: _sha256(folder / rel) for rel in _files(folder) if rel not in (MANIFEST, MARKER)}
    body = {"generator": _GENERATOR, "kind": kind, "files": files}
    path = folder / MANIFEST
    path.write_text(json.dumps(body, indent=1, sort_keys=True) + "\n", "utf-8")
    return path


def _foreign_files(folder: Path, manifest: dict[str, str]) -> list[str]:
    """Files of ``folder`` that its manifest does not list, or whose content changed."""
    bad = []
    for rel in _files(folder):
        if rel == MANIFEST:
            continue
        path = folder / rel
        if rel not in manifest or path.is_symlink():
            bad.append(rel)
        elif _sha256(path) != manifest[rel]:
            bad.append(rel + " (changed since npctrial wrote it)")
    return bad


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_folder(out: Path, inputs: Sequence[Path] = ()) -> None:
    """Raise a ValidationError (``field="out"``) unless ``out`` may receive a report (rules 1-2)."""
    if out.is_symlink():
        raise ValidationError(f"--out {out} is a symbolic link; give a new folder", field="out")
    target = out.resolve()
    cwd = Path.cwd().resolve()
    if _is_within(cwd, target):
        what = "the current folder" if target == cwd else "a parent of the current folder"
        raise ValidationError(f"--out {out} is {what}; give a new folder for the report, e.g. --out report",
                              field="out")
    for item in inputs:
        if _is_within(Path(item).resolve(), target):
            raise ValidationError(f"--out {out} holds the input file {Path(item).name}; give a new folder for "
                                  "the report", field="out")
    if not out.exists():
        return
    if not out.is_dir():
        raise ValidationError(f"--out {out} is a file, not a folder; give a new folder for the report", field="out")
    entries = _files(out)
    if not entries and not any(out.iterdir()):
        return
    manifest = read_manifest(out)
    if manifest is None:
        raise ValidationError(f"--out {out} is a folder that npctrial did not create (no {MANIFEST}); it holds "
                              f"{_listing(entries or [p.name for p in out.iterdir()])}; give a new folder",
                              field="out")
    foreign = _foreign_files(out, manifest)
    if foreign:
        raise ValidationError(f"--out {out} holds files that npctrial did not write: {_listing(foreign)}; "
                              "move them or give a new folder", field="out")


def _listing(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owned_leftover(folder: Path) -> bool:
    """A staging or replaced folder of a run that is no longer running (rule 4)."""
    m = _STAGING.match(folder.name)
    if m is None or folder.is_symlink() or not folder.is_dir():
        return False
    if _pid_running(int(m["pid"])) and int(m["pid"]) != os.getpid():
        return False
    marker = folder / MARKER
    if marker.is_file() and not marker.is_symlink():
        try:
            info = json.loads(marker.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return False
        return isinstance(info, dict) and info.get("generator") == _GENERATOR and info.get("host") == socket.gethostname()
    manifest = read_manifest(folder)
    return manifest is not None and not _foreign_files(folder, manifest)


def remove_report(folder: Path) -> list[str]:
    """Delete the files that ``folder``'s manifest lists (unchanged ones only), the manifest, and
    the folders left empty. Returns what was left in place (files npctrial did not write)."""
    manifest = read_manifest(folder) or {}
    for rel, digest in manifest.items():
        path = folder / rel
        if path.is_file() and not path.is_symlink() and _sha256(path) == digest:
            path.unlink()
    with contextlib.suppress(FileNotFoundError):
        (folder / MANIFEST).unlink()
    for root, _dirs, _names in sorted(os.walk(folder), key=lambda w: -len(w[0])):
        with contextlib.suppress(OSError):
            Path(root).rmdir()  # only succeeds on an empty folder
    return _files(folder) if folder.exists() else []


def clean_leftovers(parent: Path) -> list[Path]:
    """Remove the staging folders of killed runs in ``parent`` (rule 4); returns what was removed."""
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for entry in sorted(parent.iterdir()):
        if not _owned_leftover(entry):
            continue
        if (entry / MARKER).is_file():
            shutil.rmtree(entry)  # a staging folder with our marker: everything in it is ours
        else:
            remove_report(entry)
        if not entry.exists():
            removed.append(entry)
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False when the system cannot."""
    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _publish(staging: Path, out: Path, kind: str) -> list[str]:
    """Manifest, marker off, staging into place, previous report deleted from its manifest."""
    write_manifest(staging, kind)
    (staging / MARKER).unlink()
    if not out.exists():
        staging.rename(out)
        return []
    if not any(out.iterdir()):
        out.rmdir()
        staging.rename(out)
        return []
    replaced = staging.with_name(staging.name.replace(".npctrial-staging-", ".npctrial-replaced-", 1))
    if _exchange(staging, out):
        staging.rename(replaced)
    else:
        out.rename(replaced)
        staging.rename(out)
    left = remove_report(replaced)
    return [f"{replaced}/{rel}" for rel in left]


@contextlib.contextmanager
def staged_output(out: str | Path, *, inputs: Sequence[Path] = (), kind: str = "cohort-report") -> Iterator[Path]:
    """Check ``out`` (rules 1-2), yield a fresh staging folder to write into, then publish it in
    place of ``out`` (rule 3). On any exception the staging folder is removed and ``out`` is
    untouched; leftovers of killed runs are removed first (rule 4)."""
    out = Path(out)
    check_output_folder(out, inputs)
    parent = out.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(parent)
    staging = parent / f".npctrial-staging-{out.name}-{os.getpid()}-{secrets.token_hex(6)}"
    staging.mkdir(mode=0o755)
    (staging / MARKER).write_text(json.dumps({"generator": _GENERATOR, "host": socket.gethostname(),
                                              "pid": os.getpid(), "target": out.name}), "utf-8")
    try:
        yield staging
        check_output_folder(out, inputs)  # nothing appeared there while the report was computed
        left = _publish(staging, out, kind)
    except BaseException:
        if staging.exists():
            shutil.rmtree(staging)
        raise
    if left:
        warnings.warn(f"the previous report was replaced, but files added to it meanwhile were kept: "
                      f"{_listing(left)}", UserWarning, stacklevel=3)
