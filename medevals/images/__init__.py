"""Images in items: reading, converting, degrading and storing them, and sending them as content parts.

The flow, and why it keeps memory flat however many images a run has:

- an ``Item`` carries ``ItemImage`` sources (a file path or an http(s) URL, never bytes);
- when a unit is solved, ``prepare.prepare_item`` reads each image, converts it if it must
  (RGBA/L/palette/16-bit -> RGB, DICOM -> windowed PNG, optional max-side resize, a seeded
  degradation) and writes the result once to the run folder as ``images/<sha256>.<ext>``;
- the request body holds only that reference, so the cache key, the resume journal and
  ``samples.jsonl`` hold the hash, never the base64;
- the engine's client turns references into ``data:`` URIs just before sending
  (``store.ImageStore.inline``), and drops them when the call returns.

Pillow and numpy are imported inside functions (start-up stays lazy); pydicom is the optional
extra ``images``.
"""
