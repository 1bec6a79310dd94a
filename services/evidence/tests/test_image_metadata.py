"""Image metadata removal: GPS and device tags go, orientation is applied, clean pictures are kept byte for byte."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image, ImageCms

from evidence.domain.image_metadata import Outcome, remove_metadata
from evidence.domain.refusals import ImageTooLarge, ImageUnreadable

pytestmark = pytest.mark.unit

FORMATS = [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]


def rewrite(content: bytes, media_type: str, max_pixels: int = 10_000_000) -> tuple[Outcome, bytes]:
    target = io.BytesIO()
    outcome = remove_metadata(io.BytesIO(content), target, media_type, max_pixels=max_pixels)
    return outcome, target.getvalue()


@pytest.mark.parametrize(("image_format", "media_type"), FORMATS)
def test_gps_and_device_tags_are_removed_and_the_orientation_applied(located_photo, image_format, media_type):
    outcome, cleaned = rewrite(located_photo(image_format, orientation=8, size=(30, 10)), media_type)

    assert outcome is Outcome.REWRITTEN
    picture = Image.open(io.BytesIO(cleaned))
    picture.load()
    assert picture.format == image_format
    exif = picture.getexif()
    assert len(exif) == 0 and not exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert not {"exif", "xmp", "comment"} & set(picture.info)
    # Orientation 8 is a quarter turn counter-clockwise: the top-left marker ends bottom-left.
    assert picture.size == (10, 30)
    red, _, blue = picture.convert("RGB").getpixel((2, 27))
    assert blue > 150 and red < 100


@pytest.mark.parametrize(("image_format", "media_type"), FORMATS)
def test_a_picture_without_metadata_is_left_as_it_is(image_format, media_type):
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(buffer, image_format)
    outcome, written = rewrite(buffer.getvalue(), media_type)
    assert outcome is Outcome.CLEAN and written == b""


def test_the_colour_profile_is_kept_and_a_comment_is_not():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (9, 9, 9)).save(buffer, "JPEG", icc_profile=profile, comment=b"taken at home, Room 1203")
    outcome, cleaned = rewrite(buffer.getvalue(), "image/jpeg")
    assert outcome is Outcome.REWRITTEN
    picture = Image.open(io.BytesIO(cleaned))
    assert picture.info.get("icc_profile") == profile
    assert "comment" not in picture.info and b"Room 1203" not in cleaned


def test_png_text_chunks_are_removed():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "张三 13800138000")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta><exif:GPSLatitude>39,54N</exif:GPSLatitude></x:xmpmeta>")
    buffer = io.BytesIO()
    Image.new("RGBA", (8, 8), (1, 2, 3, 4)).save(buffer, "PNG", pnginfo=info)
    outcome, cleaned = rewrite(buffer.getvalue(), "image/png")
    assert outcome is Outcome.REWRITTEN
    assert b"13800138000" not in cleaned and b"GPSLatitude" not in cleaned
    assert Image.open(io.BytesIO(cleaned)).mode == "RGBA"


def test_a_picture_with_more_pixels_than_allowed_is_refused_before_decoding():
    buffer = io.BytesIO()
    Image.new("1", (4000, 4000)).save(buffer, "PNG")
    with pytest.raises(ImageTooLarge):
        rewrite(buffer.getvalue(), "image/png", max_pixels=1_000_000)


def test_damaged_images_are_refused(located_photo):
    photo = located_photo("JPEG")
    with pytest.raises(ImageUnreadable):
        rewrite(photo[: len(photo) // 2], "image/jpeg")
    with pytest.raises(ImageUnreadable):
        rewrite(b"\x89PNG\r\n\x1a\n" + bytes(100), "image/png")


def test_heic_without_a_decoder_is_reported_not_decoded(samples):
    outcome, written = rewrite(samples["heic"][0], "image/heic")
    assert outcome is Outcome.NOT_DECODED and written == b""
