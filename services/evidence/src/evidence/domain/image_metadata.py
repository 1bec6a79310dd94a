"""Removing location and device metadata (EXIF with GPS, XMP, comments, maker data) from images before storage.

Pillow decodes the picture and writes it again with only what rendering needs: pixels, the colour
profile (ICC), resolution and transparency. The EXIF orientation is applied to the pixels first
(``ImageOps.exif_transpose``), so the picture still shows the right way up without its EXIF. JPEG
keeps its own quantisation tables and chroma subsampling, so rewriting costs next to no quality.

An image that carries no such metadata is kept byte for byte (its stored hash is then the hash
received). HEIC and HEIF are decoded and written again through pillow-heif (libheif), registered
with Pillow here; one that libheif cannot decode is stored as received and the receipt says its
metadata was not removed. Decoding is bounded by a pixel budget checked from the header, before a
single pixel is decoded, so a small file that inflates to gigabytes (a decompression bomb) is refused.
"""

from __future__ import annotations

import enum
import warnings
from typing import Any, BinaryIO

import pillow_heif
from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

from evidence.domain.refusals import ImageTooLarge, ImageUnreadable

pillow_heif.register_heif_opener()

#: The Pillow format of each image type whose metadata the service removes.
REWRITABLE = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/heic": "HEIF"}
#: Image types the service may be unable to decode (a HEIC variant libheif does not know); stored as received then.
BEST_EFFORT = {"image/heic": "HEIF"}

#: ``Image.info`` entries that carry no location or device data and that rendering needs or uses.
RENDERING_INFO = frozenset(
    {
        "dpi",
        "gamma",
        "icc_profile",
        "transparency",
        "srgb",
        "chromaticity",
        "aspect",
        "jfif",
        "jfif_version",
        "jfif_unit",
        "jfif_density",
        "adobe",
        "adobe_transform",
        "progressive",
        "progression",
        "interlace",
        "loop",
        "duration",
        "background",
        "timestamp",
        "default_image",
        "blend",
        "disposal",
        "bbox",
        # pillow-heif's description of a HEIF image's structure (no location or device data in them).
        "primary",
        "bit_depth",
        "thumbnails",
        "depth_images",
        "aux",
        "chroma",
        "nclx_profile",
        "original_orientation",
    }
)
#: The JPEG application segments that are rendering data: JFIF header, ICC profile, Adobe colour transform.
RENDERING_SEGMENTS = (("APP0", b"JFIF\x00"), ("APP2", b"ICC_PROFILE\x00"), ("APP14", b"Adobe"))
#: What is carried over into the rewritten file.
KEPT_INFO = ("icc_profile", "dpi", "transparency", "gamma", "loop", "duration", "background")

WEBP_QUALITY = 95
HEIF_QUALITY = 90


class Outcome(enum.Enum):
    #: Nothing to remove: keep the received bytes.
    CLEAN = "clean"
    #: Metadata removed: the rewritten file is to be stored.
    REWRITTEN = "rewritten"
    #: Could not be decoded (HEIC): stored as received, metadata not removed.
    NOT_DECODED = "not_decoded"


def remove_metadata(source: BinaryIO, target: BinaryIO, media_type: str, *, max_pixels: int) -> Outcome:
    """Write ``source`` without its metadata to ``target`` (when there was any); blocking, run it in a thread."""
    fmt = REWRITABLE.get(media_type) or BEST_EFFORT.get(media_type)
    if fmt is None:
        raise ValueError(f"{media_type} is not an image type")
    source.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns from half its own bomb limit on; the service's budget is the one that counts.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source, formats=[fmt])
    except (UnidentifiedImageError, KeyError):
        if media_type in BEST_EFFORT:
            return Outcome.NOT_DECODED
        raise ImageUnreadable("The image cannot be decoded, so its metadata cannot be removed.") from None
    except Image.DecompressionBombError:
        raise ImageTooLarge(f"The image has more than {max_pixels} pixels.") from None
    except (OSError, SyntaxError, ValueError):
        raise ImageUnreadable("The image cannot be decoded, so its metadata cannot be removed.") from None
    with image:
        frames = getattr(image, "n_frames", 1)
        width, height = image.size
        if width * height * frames > max_pixels:
            raise ImageTooLarge(
                f"The image has {width}x{height} pixels in {frames} frame(s); the limit is {max_pixels}."
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image.load()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise ImageUnreadable("The image is damaged or truncated, so its metadata cannot be removed.") from None
        if not carries_metadata(image):
            return Outcome.CLEAN
        if fmt not in Image.SAVE:
            return Outcome.NOT_DECODED
        _rewrite(image, target, fmt, frames)
    target.seek(0)
    return Outcome.REWRITTEN


def carries_metadata(image: Image.Image) -> bool:
    """Anything beyond what rendering needs: EXIF (GPS, camera, time), XMP, comments, maker or Photoshop data."""
    if len(image.getexif()):
        return True
    if any(key not in RENDERING_INFO and value not in (None, b"", "", [], {}) for key, value in image.info.items()):
        return True
    return any(
        not any(marker == name and payload.startswith(prefix) for name, prefix in RENDERING_SEGMENTS)
        for marker, payload in getattr(image, "applist", ())
    )


def _rewrite(image: Image.Image, target: BinaryIO, fmt: str, frames: int) -> None:
    kept: dict[str | tuple[int, int], Any] = {key: image.info[key] for key in KEPT_INFO if key in image.info}
    options: dict[str, Any] = {key: kept[key] for key in ("icc_profile", "dpi") if key in kept}
    if frames > 1:
        # Animations keep their frames; orientation tags on animations are not something phones write.
        image.info = kept
        image.save(target, fmt, save_all=True, **_no_exif(fmt), **options, **_format_options(image, fmt))
        return
    clean = ImageOps.exif_transpose(image)
    clean.info = kept
    clean.save(target, fmt, **_no_exif(fmt), **options, **_format_options(image, fmt))


def _no_exif(fmt: str) -> dict[str, Any]:
    """The save option that writes no EXIF: an empty block for Pillow's own writers, none at all for libheif's."""
    return {"exif": None, "xmp": None} if fmt == "HEIF" else {"exif": b""}


def _format_options(original: Image.Image, fmt: str) -> dict[str, Any]:
    if fmt == "JPEG":
        options: dict[str, Any] = {"progressive": "progressive" in original.info}
        # Quantization tables exist only on an image read from a JPEG file.
        quantization = getattr(original, "quantization", None)
        if quantization:
            options["qtables"] = quantization
            sampling = JpegImagePlugin.get_sampling(original)
            if sampling != -1:
                options["subsampling"] = sampling
        else:
            options["quality"] = 95
        return options
    if fmt == "WEBP":
        return {"quality": WEBP_QUALITY, "method": 4}
    if fmt == "HEIF":
        return {"quality": HEIF_QUALITY}
    return {}
