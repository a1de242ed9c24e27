"""``formcheck serve``: a local web app for the lifter's phone and the coach's laptop.

Upload a video (or film one on the phone), watch the analysis progress, read
the report with the annotated video playing; coaches see their clients, each
client's trends and the roster; the live page checks a set from the laptop's
camera. Everything runs on this machine and is served from it (no CDN).

Modules, one topic each:

``config``    where the data lives, the bind address, the access token (``--lan``)
``store``     one JSON state file per analysis (``queued → running → done | error``)
``uploads``   the multipart upload streamed to disk (size limit, SHA-256, atomic)
``work``      the queue and its worker processes (one analysis at a time by default)
``worker``    what a worker process runs: ``formcheck batch``'s one-video job
``library``   the data folder as the batch left it: records, clients, roster, trend plots
``security``  the token, the Host and Origin checks and the response headers (ASGI middleware)
``live``      the live check: frames over a WebSocket to a ``StreamingAnalyzer``
``pages``     the HTML pages (every outside string escaped)
``app``       the Starlette application: routes
``command``   the command line

The data folder uses ``formcheck batch``'s output layout (``<client>/<set>/``
with ``batch.json``, ``history.sqlite``, ``roster.csv``), so the web app and
``formcheck batch --out`` the same folder see the same clients. See
``docs/web.md``.
"""
