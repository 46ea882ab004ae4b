"""Reading a request body with a size limit enforced before (and while) it is read."""

from __future__ import annotations

from aiohttp import web


def too_large(limit: int, size: int | str) -> web.HTTPRequestEntityTooLarge:
    return web.HTTPRequestEntityTooLarge(
        max_size=limit,
        actual_size=size if isinstance(size, int) else limit + 1,
        text=f'{{"error": "body of {size} bytes is larger than the limit of {limit} bytes"}}',
        content_type="application/json",
    )


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The body, or 413 at once: a declared length is checked before a single byte is read."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large(limit, declared)
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:  # chunked bodies declare no length: stop reading at the limit
            raise too_large(limit, f"more than {limit}")
        chunks.append(chunk)
    return b"".join(chunks)
