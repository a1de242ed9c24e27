"""Build ``pose_landmarker_full.task`` from the models inside the mediapipe 0.10.21 wheel.

The MediaPipe Tasks ``PoseLandmarker`` (the only pose API in mediapipe >= 0.10.30)
loads a ``.task`` model bundle, which mediapipe downloads at run time. This script
builds an equivalent bundle offline from the two TFLite models that ship inside the
mediapipe 0.10.21 wheel, the last release that contains them:

* ``mediapipe/modules/pose_detection/pose_detection.tflite`` (person detector)
* ``mediapipe/modules/pose_landmark/pose_landmark_full.tflite`` (BlazePose GHUM
  full landmark model)

Both files are checked against hard-coded SHA-256 digests. Each model gets TFLite
metadata describing its image input normalisation (detector: mean 127.5, std 127.5,
i.e. inputs in [-1, 1]; landmarker: mean 0, std 255, i.e. inputs in [0, 1]) and one
feature output per output tensor; without that metadata the Tasks API refuses the
model ("requires specifying NormalizationOptions metadata"). The two models are
then written as ``pose_detector.tflite`` and ``pose_landmarks_detector.tflite``
into an uncompressed (stored), 4-byte-aligned zip archive, which is the ``.task``
format (a deflated zip fails with "Expected uncompressed zip archive").

The output is deterministic: zip members get a fixed timestamp and permissions,
so repeated runs (with the same Python and mediapipe versions) produce a
byte-identical file whose digest is recorded in ``models/SHA256SUMS``.

The metadata writer only imports under mediapipe 0.10.21 (under 0.10.31 it fails on
``mediapipe.tasks.cc``), so run this script in a throwaway virtual environment; the
bundle it writes is then used by the product with any newer mediapipe.

Usage
-----
Exact reproduction recipe, from the repository root::

    python -m venv /tmp/mp21 && /tmp/mp21/bin/pip install mediapipe==0.10.21 && /tmp/mp21/bin/python models/build_pose_task.py

then check the result with ``cd models && sha256sum -c SHA256SUMS``.

Options
-------
--out PATH
    Where to write the bundle. Default: ``pose_landmarker_full.task`` next to this
    script.

Notes
-----
The models are Google's, licensed Apache-2.0; see ``NOTICE.md`` and
``LICENSE-APACHE-2.0.txt`` in this folder.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import os
import sys
import tempfile
import zipfile
from pathlib import Path

EXPECTED_MEDIAPIPE_VERSION = "0.10.21"

#: Bundle member name -> (path inside the mediapipe package, sha256, norm mean, norm std,
#: description).
MODELS = {
    "pose_detector.tflite": (
        "modules/pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
        127.5,
        127.5,
        "BlazePose person detector (from mediapipe 0.10.21 pose_detection.tflite).",
    ),
    "pose_landmarks_detector.tflite": (
        "modules/pose_landmark/pose_landmark_full.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
        0.0,
        255.0,
        "BlazePose GHUM full landmark model (from mediapipe 0.10.21 pose_landmark_full.tflite).",
    ),
}

#: Fixed zip member timestamp (the earliest a zip can store) for reproducible output.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)

DEFAULT_OUT = Path(__file__).resolve().parent / "pose_landmarker_full.task"


def sha256_hex(data: bytes) -> str:
    """Return the hex SHA-256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def find_mediapipe_dir() -> Path:
    """Return the installed ``mediapipe`` package directory without importing it."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(
            "mediapipe is not installed in this interpreter; run this script with a "
            f"Python that has mediapipe=={EXPECTED_MEDIAPIPE_VERSION} (see the docstring)."
        )
    return Path(list(spec.submodule_search_locations)[0])


def read_verified(mp_dir: Path, rel_path: str, expected_sha256: str) -> bytes:
    """Read a model file from the mediapipe package and verify its digest."""
    path = mp_dir / rel_path
    if not path.is_file():
        sys.exit(
            f"{path} not found: mediapipe {EXPECTED_MEDIAPIPE_VERSION} ships this model, "
            "newer releases do not."
        )
    data = path.read_bytes()
    digest = sha256_hex(data)
    if digest != expected_sha256:
        sys.exit(f"sha256 mismatch for {path}:\n  expected {expected_sha256}\n  got      {digest}")
    return data


def add_metadata(model: bytes, name: str, description: str, mean: float, std: float) -> bytes:
    """Return ``model`` with TFLite metadata (image input normalisation, feature outputs)."""
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, writer_utils

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(name, description)
    writer.add_image_input(
        norm_mean=[mean],
        norm_std=[std],
        color_space_type=metadata_writer.metadata_fb.ColorSpaceType.RGB,
    )
    for tensor_name in writer_utils.get_output_tensor_names(model):
        writer.add_feature_output(name=tensor_name)
    model_with_metadata, _json = writer.populate()
    return bytes(model_with_metadata)


def write_bundle(members: dict[str, bytes], out_path: Path) -> None:
    """Write ``members`` as an uncompressed, 4-byte-aligned, reproducible zip.

    This is ``model_asset_bundle_utils.create_model_asset_bundle`` with fixed
    per-member timestamps and permissions (that function stamps the current time),
    written to a temporary file and moved into place.
    """
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils as mabu

    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=out_path.name + ".", suffix=".tmp", dir=out_path.parent)
    os.close(fd)
    try:
        with mabu.AlignZipFile(tmp_name, mode="w", alignment=mabu._ALIGNMENT) as zf:
            for member_name, data in members.items():
                info = zipfile.ZipInfo(member_name, date_time=ZIP_DATE_TIME)
                info.compress_type = zipfile.ZIP_STORED
                info.create_system = 3  # Unix, regardless of the build platform
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, out_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def check_bundle(out_path: Path, members: dict[str, bytes]) -> None:
    """Re-read the bundle and check it is stored (uncompressed) and intact."""
    with zipfile.ZipFile(out_path) as zf:
        names = zf.namelist()
        if names != list(members):
            raise RuntimeError(f"unexpected members in {out_path}: {names}")
        for info in zf.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise RuntimeError(f"{info.filename} is compressed")
            if zf.read(info) != members[info.filename]:
                raise RuntimeError(f"{info.filename} does not round-trip")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=(
            "Build pose_landmarker_full.task from the models in the mediapipe 0.10.21 wheel."
        )
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"output .task path (default: {DEFAULT_OUT})",
    )
    args = parser.parse_args(argv)

    try:
        version = importlib.metadata.version("mediapipe")
    except importlib.metadata.PackageNotFoundError:
        version = None
    if version != EXPECTED_MEDIAPIPE_VERSION:
        print(
            f"warning: mediapipe {version} installed, expected {EXPECTED_MEDIAPIPE_VERSION}",
            file=sys.stderr,
        )

    mp_dir = find_mediapipe_dir()
    members: dict[str, bytes] = {}
    for member_name, (rel_path, expected, mean, std, description) in MODELS.items():
        raw = read_verified(mp_dir, rel_path, expected)
        members[member_name] = add_metadata(
            raw, Path(member_name).stem, description, mean, std
        )

    write_bundle(members, args.out)
    check_bundle(args.out, members)
    digest = sha256_hex(args.out.read_bytes())
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    print(f"{digest}  {args.out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
