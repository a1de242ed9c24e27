"""Input and output: the first stage, and the files every later stage writes.

Modules (import them directly; this package imports none of them, so
``import formcheck`` stays free of PyAV and OpenCV):

- :mod:`formcheck.io.video` — video files decoded with PyAV:
  :func:`~formcheck.io.video.probe`, :func:`~formcheck.io.video.read_frames`
  (upright BGR frames with container timestamps; rotation, truncation and
  damage handled), :func:`~formcheck.io.video.prefetch` (decode on a thread).
- :mod:`formcheck.io.camera` — live sources that keep only the newest frame:
  :func:`~formcheck.io.camera.open_camera` /
  :class:`~formcheck.io.camera.CameraSource`,
  :class:`~formcheck.io.camera.PacedFileSource`.
- :mod:`formcheck.io.writer` — :class:`~formcheck.io.writer.VideoWriter`,
  H.264 MP4 written on a thread and renamed into place when complete.
- :mod:`formcheck.io.files` — atomic writes
  (:func:`~formcheck.io.files.write_text_atomic`,
  :func:`~formcheck.io.files.atomic_path`) and
  :func:`~formcheck.io.files.safe_name`.
- :mod:`formcheck.io.provenance` — ``FORMCHECK_VERSION``, stamped into outputs.
"""
