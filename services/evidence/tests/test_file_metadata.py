"""Metadata removed from every kind of evidence, through the service's real upload path against nanio: each
file is made here with the library that writes that kind, carrying a GPS position or an author, uploaded,
and read back from storage (and through the download link) without it. A file that cannot be read as its
type is stored as received and its receipt says why."""

from __future__ import annotations

import asyncio
import hashlib
import io
import struct
import uuid
import wave
import zipfile
from xml.etree import ElementTree

import httpx
import pikepdf
import pillow_heif
import pytest
from docx import Document
from mutagen.id3 import ID3, TIT2, TPE1, TXXX
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from PIL import Image

from evidence.domain import file_metadata

pytestmark = pytest.mark.integration

AUTHOR = "张三 Zhang San"
PLACE = "+22.5431+114.0579/"
COMPANY = "某某科技有限公司"


def new_number() -> str:
    return f"GC-{uuid.uuid4().hex[:12]}"


async def upload(client: httpx.AsyncClient, number: str, content: bytes, media_type: str) -> dict:
    answer = await client.post(
        f"/v1/complaints/{number}/evidence", content=content, headers={"Content-Type": media_type}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def stored(storage, bucket: str, key: str) -> bytes:
    response = storage.get_object(bucket, key)
    try:
        return response.data
    finally:
        response.close()
        response.release_conn()


async def kept(storage, settings, number: str, receipt: dict) -> bytes:
    data = await asyncio.to_thread(stored, storage, settings.s3_bucket, f"{number}/{receipt['evidence_id']}")
    assert (hashlib.sha256(data).hexdigest(), len(data)) == (receipt["sha256"], receipt["size"])
    return data


# --- real files carrying metadata, made with the libraries that write each kind ------------------------------


def heic_with_location() -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 15 Pro"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (22.0, 32.0, 35.0), "E", (114.0, 3.0, 28.0)
    buffer = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (32, 16), (20, 90, 200))).save(buffer, exif=exif.tobytes(), quality=80)
    return buffer.getvalue()


def pdf_with_author() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["dc:creator"] = [AUTHOR]
        xmp["xmp:CreatorTool"] = "WPS Office on 张三的电脑"
    pdf.docinfo["/Author"] = AUTHOR
    pdf.docinfo["/Producer"] = "iPhone 15 Pro"
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = AUTHOR
    buffer = io.BytesIO()
    pdf.save(buffer, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    return buffer.getvalue()


def docx_with_author() -> bytes:
    document = Document()
    document.add_paragraph("退款申请的说明")
    document.core_properties.author = AUTHOR
    document.core_properties.last_modified_by = AUTHOR
    document.core_properties.comments = PLACE
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx_with_author() -> bytes:
    workbook = Workbook()
    workbook.active["A1"] = "扣费记录"
    workbook.properties.creator = AUTHOR
    workbook.properties.lastModifiedBy = AUTHOR
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    # openpyxl writes the company into app.xml only as its own name: add ours, as Office does.
    return _with_part(
        data,
        "docProps/app.xml",
        f'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/extended-properties"><Company>{COMPANY}</Company></Properties>'.encode(),
    )


def _with_part(package: bytes, name: str, content: bytes) -> bytes:
    """The package with its part ``name`` replaced by ``content``, or added when it has none."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(entry, content if entry.filename == name else source.read(entry))
        if name not in source.namelist():
            target.writestr(name, content)
    return out.getvalue()


def mp3_with_tags() -> bytes:
    # One MPEG-1 Layer III frame header (128 kbit/s, 44.1 kHz) repeated: what mutagen and the type detection read.
    frame = b"\xff\xfb\x90\x64" + bytes(413)
    path = io.BytesIO(frame * 20)
    tags = ID3()
    tags.add(TPE1(encoding=3, text=[AUTHOR]))
    tags.add(TIT2(encoding=3, text=["录音 2026-10-20"]))
    tags.add(TXXX(encoding=3, desc="location", text=[PLACE]))
    tags.save(path)
    path.seek(0, io.SEEK_END)
    path.write(b"TAG" + AUTHOR.encode()[:30].ljust(30, b"\x00") + bytes(95))  # an ID3v1 tag at the end as well
    return path.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def iso_media_with_location(brand: bytes) -> bytes:
    """An MP4/MOV/M4A with a movie header, the location in ``udta/©xyz`` (as phones write it) and iTunes tags."""
    mvhd = _box(
        b"mvhd",
        bytes(12)
        + struct.pack(">II", 1000, 0)
        + struct.pack(">IH", 0x00010000, 0x0100)
        + bytes(10)
        + bytes(36)
        + bytes(24)
        + struct.pack(">I", 2),
    )
    location = PLACE.encode()
    udta = _box(b"udta", _box(b"\xa9xyz", struct.pack(">HH", len(location), 0x15C7) + location))
    data = _box(b"ftyp", brand + struct.pack(">I", 512) + brand) + _box(b"moov", mvhd + udta)
    data += _box(b"mdat", bytes(256))
    buffer = io.BytesIO(data)
    tagged = MP4(buffer)
    tagged.add_tags()
    tagged.tags["\xa9ART"] = [AUTHOR]
    tagged.tags["\xa9too"] = ["iPhone 15 Pro"]
    buffer.seek(0)
    tagged.save(buffer)
    return buffer.getvalue()


def wav_with_info() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as recording:
        recording.setnchannels(1)
        recording.setsampwidth(2)
        recording.setframerate(8000)
        recording.writeframes(b"\x00\x01" * 800)
    data = bytearray(buffer.getvalue())
    artist = AUTHOR.encode() + b"\x00"
    info = b"INFO" + b"IART" + struct.pack("<I", len(artist)) + artist + (b"\x00" if len(artist) % 2 else b"")
    data += b"LIST" + struct.pack("<I", len(info)) + info
    data[4:8] = struct.pack("<I", len(data) - 8)
    return bytes(data)


# --- the uploads -------------------------------------------------------------------------------------------------


async def test_heic_loses_its_location_and_device(client, settings, storage):
    number = new_number()
    original = heic_with_location()
    assert b"iPhone" in original
    receipt = await upload(client, number, original, "image/heic")
    assert receipt["metadata_stripped"] is True and receipt["metadata_reason"] is None
    data = await kept(storage, settings, number, receipt)
    assert b"iPhone" not in data and b"Apple" not in data
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "HEIF" and len(picture.getexif()) == 0 and picture.size == (32, 16)


async def test_pdf_loses_its_document_information_and_xmp(client, settings, storage):
    number = new_number()
    receipt = await upload(client, number, pdf_with_author(), "application/pdf")
    assert receipt["metadata_stripped"] is True and receipt["sha256"] != receipt["original_sha256"]
    data = await kept(storage, settings, number, receipt)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root and len(pdf.pages) == 1
    assert AUTHOR.encode("utf-16-be") not in data and b"Zhang San" not in data and b"iPhone" not in data


async def test_an_encrypted_pdf_is_stored_as_received_and_its_receipt_says_why(client, settings, storage, events):
    number = new_number()
    original = encrypted_pdf()
    receipt = await upload(client, number, original, "application/pdf")
    assert receipt["metadata_stripped"] is False and receipt["metadata_reason"] == "encrypted_pdf"
    assert receipt["sha256"] == receipt["original_sha256"] == hashlib.sha256(original).hexdigest()
    announced = await events.wait_for(
        "evidence.stored", where=lambda event: event.data["evidence_id"] == receipt["evidence_id"]
    )
    assert announced.event.data["metadata_stripped"] is False
    assert announced.event.data["metadata_reason"] == "encrypted_pdf"


@pytest.mark.parametrize(
    ("make", "media_type"),
    [
        (docx_with_author, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (xlsx_with_author, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
async def test_office_files_lose_their_properties_and_still_open(client, settings, storage, make, media_type):
    number = new_number()
    original = make()
    assert AUTHOR.encode() in zipfile.ZipFile(io.BytesIO(original)).read("docProps/core.xml")
    receipt = await upload(client, number, original, media_type)
    assert receipt["metadata_stripped"] is True
    data = await kept(storage, settings, number, receipt)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            assert AUTHOR.encode() not in package.read(name) and COMPANY.encode() not in package.read(name), name
        assert {entry.date_time for entry in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    if media_type.endswith("document"):
        reopened = Document(io.BytesIO(data))
        assert reopened.paragraphs[0].text == "退款申请的说明" and reopened.core_properties.author == ""
    else:
        reopened = load_workbook(io.BytesIO(data))
        # openpyxl fills in its own name for a workbook without a creator.
        assert reopened.active["A1"].value == "扣费记录" and reopened.properties.creator in (None, "openpyxl")


EMAIL = "zhangsan@example.com"
W15 = "http://schemas.microsoft.com/office/word/2012/wordml"


def docx_with_a_comment_and_a_tracked_change() -> bytes:
    """Word's own shapes: a comment (author, initials, date), an insertion tracked under the author's name, and
    the people part with the author's account, as Word 2013 and later write them."""
    document = Document()
    paragraph = document.add_paragraph("退款申请的说明")
    document.add_comment(paragraph.runs, text="请核对金额", author=AUTHOR, initials="ZS")
    data = io.BytesIO()
    document.save(data)
    body = zipfile.ZipFile(io.BytesIO(data.getvalue())).read("word/document.xml").decode()
    tracked = (
        f'<w:p><w:ins w:id="90" w:author="{AUTHOR}" w:date="2026-10-20T10:00:00Z">'
        "<w:r><w:t>补充：已联系客服三次。</w:t></w:r></w:ins></w:p><w:sectPr"
    )
    package = _with_part(data.getvalue(), "word/document.xml", body.replace("<w:sectPr", tracked, 1).encode())
    people = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w15:people xmlns:w15="{W15}">'
        f'<w15:person w15:author="{AUTHOR}"><w15:presenceInfo w15:providerId="AD" w15:userId="{EMAIL}"/>'
        "</w15:person></w15:people>"
    )
    return _with_part(package, "word/people.xml", people.encode())


def xlsx_with_comments() -> bytes:
    """An Excel comment (its author listed in the comments part) and a threaded comment's person."""
    workbook = Workbook()
    workbook.active["A1"] = "扣费记录"
    workbook.active["A1"].comment = Comment("重复扣费", AUTHOR)
    data = io.BytesIO()
    workbook.save(data)
    person = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><personList '
        'xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
        f'<person displayName="{AUTHOR}" id="{{6A5B}}" userId="{EMAIL}" providerId="AD"/></personList>'
    )
    return _with_part(data.getvalue(), "xl/persons/person.xml", person.encode())


@pytest.mark.parametrize(
    ("make", "media_type"),
    [
        (
            docx_with_a_comment_and_a_tracked_change,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (xlsx_with_comments, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
async def test_comments_and_tracked_changes_lose_who_made_them_and_when(client, settings, storage, make, media_type):
    number = new_number()
    original = make()
    with zipfile.ZipFile(io.BytesIO(original)) as package:
        everything = b"".join(package.read(name) for name in package.namelist())
    assert AUTHOR.encode() in everything and EMAIL.encode() in everything
    receipt = await upload(client, number, original, media_type)
    assert receipt["metadata_stripped"] is True
    data = await kept(storage, settings, number, receipt)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            part = package.read(name)
            assert AUTHOR.encode() not in part and EMAIL.encode() not in part and b"ZS" not in part, name
            assert b"2026-10-20T10:00:00Z" not in part, name
    # What was commented and changed stays, under an anonymous author, and the file still opens.
    if media_type.endswith("document"):
        reopened = Document(io.BytesIO(data))
        assert [comment.author for comment in reopened.comments] == ["Author"]
        assert [comment.text for comment in reopened.comments] == ["请核对金额"]
        assert "补充：已联系客服三次。" in zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
        assert b'xmlns:w15="' in zipfile.ZipFile(io.BytesIO(data)).read("word/people.xml")  # prefixes kept
    else:
        reopened = load_workbook(io.BytesIO(data))
        assert reopened.active["A1"].comment.text.endswith("重复扣费")
        assert reopened.active["A1"].comment.author == "Author"


async def test_mp3_loses_its_tags(client, settings, storage):
    number = new_number()
    original = mp3_with_tags()
    assert AUTHOR.encode("utf-8") in original
    receipt = await upload(client, number, original, "audio/mpeg")
    assert receipt["metadata_stripped"] is True
    data = await kept(storage, settings, number, receipt)
    assert AUTHOR.encode("utf-8") not in data and b"Zhang" not in data and PLACE.encode() not in data
    assert MP3(io.BytesIO(data)).tags is None and b"TAG" not in data[-128:]


@pytest.mark.parametrize(
    ("brand", "media_type"),
    [
        (b"mp42", "video/mp4"),
        (b"qt  ", "video/quicktime"),
        (b"M4A ", "audio/mp4"),
    ],
)
async def test_mp4_mov_and_m4a_lose_their_location_and_tags(client, settings, storage, brand, media_type):
    number = new_number()
    original = iso_media_with_location(brand)
    assert PLACE.encode() in original and MP4(io.BytesIO(original)).tags["\xa9ART"] == [AUTHOR]
    receipt = await upload(client, number, original, media_type)
    assert receipt["metadata_stripped"] is True and receipt["size"] == receipt["original_size"]
    data = await kept(storage, settings, number, receipt)
    assert PLACE.encode() not in data and AUTHOR.encode() not in data and b"iPhone" not in data
    reread = MP4(io.BytesIO(data))
    assert not reread.tags and data[:8] == original[:8]


async def test_wav_loses_its_info_chunk(client, settings, storage):
    number = new_number()
    original = wav_with_info()
    receipt = await upload(client, number, original, "audio/wav")
    assert receipt["metadata_stripped"] is True
    data = await kept(storage, settings, number, receipt)
    assert AUTHOR.encode() not in data and b"LIST" not in data
    with wave.open(io.BytesIO(data)) as recording:
        assert (recording.getframerate(), recording.getnframes()) == (8000, 800)


def _comments_with(doctype: str, text: str) -> bytes:
    hostile = (
        f'<?xml version="1.0"?><!DOCTYPE w:comments [{doctype}]>'
        '<w:comments xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f'<w:comment w:id="0" w:author="{AUTHOR}"><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:comment>'
        "</w:comments>"
    )
    return _with_part(docx_with_author(), "word/comments.xml", hostile.encode())


def test_an_external_entity_in_an_office_part_is_not_fetched(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the-servers-own-secret")
    package = _comments_with(f'<!ENTITY secret SYSTEM "{secret.as_uri()}">', "&secret;")
    target = io.BytesIO()
    assert file_metadata.clean_office(io.BytesIO(package), target).outcome is file_metadata.Outcome.REWRITTEN
    comments = zipfile.ZipFile(target).read("word/comments.xml")
    assert AUTHOR.encode() not in comments and b"the-servers-own-secret" not in comments
    # Well-formed again without its DTD (the part is ours now, not the hostile one).
    assert ElementTree.fromstring(comments).tag.endswith("comments")  # noqa: S314


def test_an_entity_bomb_in_an_office_part_is_not_expanded():
    """A billion laughs (Office never writes a DTD): libxml2 refuses to expand it, and the file is stored as
    received with the reason on its receipt, as any package that cannot be read."""
    laughs = '<!ENTITY l0 "ha">' + "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    target = io.BytesIO()
    result = file_metadata.clean_office(io.BytesIO(_comments_with(laughs, "&l9;")), target)
    assert result == file_metadata.Result(file_metadata.Outcome.NOT_REMOVED, "damaged_package")
    assert target.getbuffer().nbytes < 1024 * 1024


async def test_a_large_video_with_its_movie_box_last_is_cleaned_while_it_streams(client, settings, storage):
    """The moov box after 6 MiB of media, as many phones write it: cleaned on the way to storage (one PUT of the
    announced length), the stored bytes hashed as they went, the received ones too."""
    number = new_number()
    tagged = iso_media_with_location(b"qt  ")
    boxes = {kind: (offset, size) for offset, size, kind in top_level_boxes(tagged)}
    moov_at, moov_size = boxes[b"moov"]
    media = _box(b"mdat", hashlib.sha256(b"seed").digest() * (6 * 1024 * 1024 // 32))
    original = tagged[:moov_at] + media + tagged[moov_at : moov_at + moov_size]
    receipt = await upload(client, number, original, "video/quicktime")
    assert receipt["metadata_stripped"] is True and receipt["metadata_reason"] is None
    assert (receipt["original_size"], receipt["original_sha256"]) == (
        len(original),
        hashlib.sha256(original).hexdigest(),
    )
    data = await kept(storage, settings, number, receipt)
    assert len(data) == len(original) == receipt["size"] and hashlib.sha256(data).hexdigest() == receipt["sha256"]
    assert PLACE.encode() not in data and AUTHOR.encode() not in data
    assert data[moov_at : moov_at + len(media)] == media


def top_level_boxes(data: bytes) -> list[tuple[int, int, bytes]]:
    boxes, offset = [], 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        boxes.append((offset, size, kind))
        offset += size
    return boxes


@pytest.mark.unit
@pytest.mark.parametrize("seed", range(40))
def test_the_streamed_cleaning_is_the_spooled_one_however_the_bytes_arrive(seed):
    """Any cut of the input into chunks gives the bytes clean_iso_media writes, at the input's length; a container
    cut short is passed on as it came and said unreadable, as the spooled cleaning says it."""
    import random

    from evidence.domain.file_metadata import IsoMetadataStream, Outcome, clean_iso_media

    chance = random.Random(seed)

    def box64(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload

    def noise(count: int) -> bytes:
        return chance.randbytes(count)

    trak = _box(b"trak", _box(b"tkhd", noise(20)) + _box(b"meta", noise(chance.randint(0, 60))))
    moov = _box(b"moov", _box(b"mvhd", noise(30)) + trak + _box(b"udta", b"\xa9xyz" + noise(chance.randint(0, 50))))
    rest = [_box(b"uuid", noise(40)), box64(b"mdat", noise(chance.randint(0, 5000))), moov]
    chance.shuffle(rest)
    data = _box(b"ftyp", b"isom" + noise(8)) + b"".join(rest)
    cut_short = seed % 5 == 0
    if cut_short:
        data = data[: -chance.randint(1, 20)]
    spooled = io.BytesIO()
    expected = clean_iso_media(io.BytesIO(data), spooled)

    cleaner, out, at = IsoMetadataStream(), bytearray(), 0
    while at < len(data):
        step = chance.randint(1, 700)
        out += cleaner.feed(data[at : at + step])
        at += step
    tail, result = cleaner.finish()
    out += tail

    assert len(out) == len(data)
    assert result == expected
    if cut_short:
        assert result.outcome is Outcome.NOT_REMOVED and result.reason == "unreadable_container"
    else:
        assert result.outcome is Outcome.REWRITTEN and bytes(out) == spooled.getvalue()
