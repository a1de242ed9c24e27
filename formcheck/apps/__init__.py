"""Applications: the command line and what it runs.

``cli`` (the ``formcheck`` command; sub-commands imported when used),
``common`` (error policy, progress), ``analyze`` (a video → outputs, with
decoding, pose and encoding overlapped), ``report``, ``evaluate`` and
``synth_eval`` (scoring against labels and rendered truth), ``live/`` (the
camera session) and ``coach/`` (batches of client videos, roster, history).
"""
