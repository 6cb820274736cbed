"""Check a written PNG by decoding it: the right size, and something drawn on it (not a blank canvas)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def assert_png_image(path: str | Path, *, size: tuple[int, int] | None = None, min_size: int = 100) -> np.ndarray:
    """Decode the PNG at ``path`` and check it; return its pixels, ``(height, width, channels)``.

    Args:
        path: The file.
        size: The exact ``(width, height)`` in pixels it must have, if known.
        min_size: Otherwise, the least width and height it must have.
    """
    from matplotlib.image import imread

    path = Path(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    pixels = imread(path, format="png")  # raises if the file is truncated or corrupt
    height, width = pixels.shape[:2]
    if size is not None:
        assert (width, height) == size, f"{path.name} is {width}x{height}, expected {size[0]}x{size[1]}"
    else:
        assert width >= min_size and height >= min_size, f"{path.name} is only {width}x{height}"
    rgb = pixels[..., :3].reshape(-1, 3)
    # A figure with axes, labels and data has many colours and some dark pixels (text, lines); an empty
    # canvas is one colour.
    colours = len(np.unique((rgb * 255).astype(np.uint8), axis=0))
    assert colours >= 8, f"{path.name} looks blank: {colours} colour(s)"
    assert (rgb.mean(axis=1) < 0.5).mean() > 0.001, f"{path.name} has almost no dark pixels (no text or lines)"
    return pixels
