"""Removing who made a file, with what, when and where, from every kind of evidence before it is stored.

A complaint's evidence is seen by the company complained about and, on an appeal, by the platform's
staff. What it shows is the evidence; what it carries besides (a phone's GPS position in a photo or a
video, the author's name and organisation in a document, the owner of the recording device) is the
complainant's, and is removed:

* images: :mod:`evidence.domain.image_metadata` (JPEG, PNG, WebP, and HEIC/HEIF through pillow-heif);
* PDF (pikepdf): the document information dictionary (author, creator, producer, dates), the XMP
  metadata stream of the document and of each page. The file is written anew by qpdf, so earlier
  revisions (incremental updates that still held the old values) are gone too;
* Word and Excel files (.docx, .xlsx): the core properties (creator, last modified by, dates, title,
  keywords), the application properties (company, manager, template, application) and the custom
  properties are replaced by empty ones, so the package stays valid for every reader; the zip entries'
  timestamps are set to one fixed date and the archive comment is dropped. Who wrote each comment and each
  tracked change, and when, goes too: every author becomes ``Author``, initials and dates are removed, and
  the people and persons parts lose the accounts (e-mail addresses, directory ids) Office keeps for them. The
  comments and the tracked changes themselves stay: they are part of what the complainant sent;
* MP3 (mutagen): ID3v1, ID3v2 and APEv2 tags;
* MP4, M4A and MOV (QuickTime / ISO base media): the user-data (``udta``) and metadata (``meta``)
  boxes of the movie and of each track, where phones write the location (``©xyz``,
  ``com.apple.quicktime.location.ISO6709``), the device and the iTunes-style tags, and top-level
  ``uuid`` boxes (XMP). Each is zeroed and renamed ``free`` in place: the file keeps its size and layout, so
  the sample offsets stay right and the media plays as before. mutagen reads only the iTunes list, not
  the QuickTime keys, so the boxes are walked here;
* WAV: every RIFF chunk but the format, fact and sample data ones (``LIST``/``INFO`` with artist and
  software, ``id3``, ``bext`` with the originator, ``iXML``).

A file that cannot be read as its type (damaged, or an encrypted PDF) is stored as received, and its
receipt says the metadata was not removed and why (:attr:`Result.reason`). AMR and plain text carry no
metadata.
"""

from __future__ import annotations

import enum
import io
import shutil
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

#: Copy buffer for the files that are rewritten a piece at a time.
COPY_BYTES = 1024 * 1024


class Outcome(enum.Enum):
    #: Nothing to remove: keep the received bytes.
    CLEAN = "clean"
    #: Metadata removed: the rewritten file is to be stored.
    REWRITTEN = "rewritten"
    #: The file could not be read as its type: stored as received, metadata not removed.
    NOT_REMOVED = "not_removed"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    #: Why the metadata was not removed (a code for the receipt), None when it was or there was none.
    reason: str | None = None

    @property
    def removed(self) -> bool:
        """The stored file carries no metadata (it was removed, or there was none)."""
        return self.outcome is not Outcome.NOT_REMOVED


CLEAN = Result(Outcome.CLEAN)
REWRITTEN = Result(Outcome.REWRITTEN)


def _not_removed(reason: str) -> Result:
    return Result(Outcome.NOT_REMOVED, reason)


# --- PDF ---------------------------------------------------------------------------------------------------


def clean_pdf(source: BinaryIO, target: BinaryIO) -> Result:
    import pikepdf

    source.seek(0)
    try:
        pdf = pikepdf.open(source)
    except pikepdf.PasswordError:
        return _not_removed("encrypted_pdf")
    except (pikepdf.PdfError, ValueError, OSError):
        return _not_removed("unreadable_pdf")
    with pdf:
        info = pdf.trailer.get("/Info")
        carries = (info is not None and len(info.keys()) > 0) or "/Metadata" in pdf.Root
        carries = carries or any("/Metadata" in page.obj for page in pdf.pages)
        if not carries:
            return CLEAN
        if "/Info" in pdf.trailer:
            del pdf.trailer["/Info"]
        if "/Metadata" in pdf.Root:
            del pdf.Root["/Metadata"]
        for page in pdf.pages:
            if "/Metadata" in page.obj:
                del page.obj["/Metadata"]
        try:
            pdf.save(target, fix_metadata_version=False)
        except (pikepdf.PdfError, ValueError, OSError):
            return _not_removed("unreadable_pdf")
    target.seek(0)
    return REWRITTEN


# --- Office Open XML ------------------------------------------------------------------------------------------

_XML = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
#: The property parts and what replaces each: the same root element, empty.
EMPTY_PROPERTIES = {
    "docProps/core.xml": _XML + b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    b'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/'
    b'terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>',
    "docProps/app.xml": _XML
    + b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"/>',
    "docProps/custom.xml": _XML
    + b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"/>',
}
#: Every entry of the rewritten package is dated this (the earliest date a zip entry can carry).
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: Bytes the rewritten package may unpack to at most: a zip bomb is stored as received rather than unpacked.
MAX_UNPACKED_BYTES = 512 * 1024 * 1024


#: What every comment's and tracked change's author becomes (Office's own word for a removed author).
ANONYMOUS_AUTHOR = "Author"
#: Attributes naming who made a comment or a change (WordprocessingML, any of its versioned namespaces): the
#: author is required by the schema, so it is renamed; the initials and the dates are optional, so they go.
_AUTHOR_ATTRIBUTES = frozenset({"author"})
_DROPPED_ATTRIBUTES = frozenset({"initials", "date", "dateUtc"})
#: Elements that hold a person's account (Word's ``w15:presenceInfo``: provider and user id, an e-mail address).
_ACCOUNT_ELEMENTS = frozenset({"presenceInfo"})
#: A spreadsheet's persons (threaded comments): the name is renamed, the account ids emptied.
_PERSON_ATTRIBUTES = {"displayName": ANONYMOUS_AUTHOR, "userId": "", "providerId": "None"}
#: The words that must appear in a part for it to carry authorship: most parts (a long document body among
#: them) are copied without being parsed.
_AUTHORSHIP_MARKS = (b"author", b"initials", b"presenceInfo", b"displayName")
#: A part that carries authorship and is larger than this is not parsed: the file is stored as received.
MAX_AUTHORSHIP_PART_BYTES = 64 * 1024 * 1024


def _carries_authorship(name: str) -> bool:
    """The parts where Word and Excel write who commented or changed what: every Word part, Excel's comments,
    threaded comments and persons."""
    if not name.endswith(".xml"):
        return False
    return name.startswith(("word/", "xl/comments", "xl/threadedComments/", "xl/persons/"))


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _anonymized(data: bytes) -> bytes | None:
    """The part with its authors renamed and its dates and accounts removed; None if it names nobody."""
    if not any(mark in data for mark in _AUTHORSHIP_MARKS):
        return None
    from lxml import etree

    # Untrusted XML: no entities resolved, no DTD loaded, nothing fetched, no tree beyond libxml2's limits.
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)
    root = etree.fromstring(data, parser)
    changed = False
    for element in list(root.iter()):
        if element.tag is etree.Entity and (parent := element.getparent()) is not None:
            # Office never writes a DTD: an entity reference is a hostile part's, and unresolved it would leave
            # the part unreadable once its DTD is gone. Removed, its tail kept.
            if element.tail:
                previous = element.getprevious()
                if previous is not None:
                    previous.tail = (previous.tail or "") + element.tail
                else:
                    parent.text = (parent.text or "") + element.tail
            parent.remove(element)
            changed = True
            continue
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        local = _local(element.tag)
        if local in _ACCOUNT_ELEMENTS and (parent := element.getparent()) is not None:
            parent.remove(element)
            changed = True
            continue
        if local == "author" and element.text:  # a spreadsheet's list of comment authors
            element.text = ANONYMOUS_AUTHOR
            changed = True
        for attribute in list(element.attrib):
            name = _local(attribute)
            if local == "person" and name in _PERSON_ATTRIBUTES:
                element.set(attribute, _PERSON_ATTRIBUTES[name])
            elif "}" not in attribute:
                continue  # Word's authorship attributes are namespaced; a plain one is a spreadsheet's own
            elif name in _AUTHOR_ATTRIBUTES:
                element.set(attribute, ANONYMOUS_AUTHOR)
            elif name in _DROPPED_ATTRIBUTES:
                del element.attrib[attribute]
            else:
                continue
            changed = True
    if not changed:
        return None
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def clean_office(source: BinaryIO, target: BinaryIO) -> Result:
    from lxml import etree

    source.seek(0)
    try:
        with zipfile.ZipFile(source) as package:
            entries = package.infolist()
            if sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
                return _not_removed("package_too_large")
            replaced = {name: content for name, content in EMPTY_PROPERTIES.items() if name in package.namelist()}
            for entry in entries:
                if not _carries_authorship(entry.filename):
                    continue
                if entry.file_size > MAX_AUTHORSHIP_PART_BYTES:
                    return _not_removed("package_too_large")
                if (anonymous := _anonymized(package.read(entry))) is not None:
                    replaced[entry.filename] = anonymous
            if not replaced and not package.comment:
                return CLEAN
            with zipfile.ZipFile(target, "w") as clean:
                for entry in entries:
                    kept = zipfile.ZipInfo(entry.filename, date_time=FIXED_ZIP_TIME)
                    kept.compress_type = zipfile.ZIP_DEFLATED
                    kept.external_attr = entry.external_attr
                    if entry.filename in replaced:
                        clean.writestr(kept, replaced[entry.filename])
                        continue
                    with package.open(entry) as part, clean.open(kept, "w") as copy:
                        shutil.copyfileobj(part, copy, COPY_BYTES)
    except etree.XMLSyntaxError:
        return _not_removed("damaged_package")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError, RuntimeError):
        return _not_removed("damaged_package")
    target.seek(0)
    return REWRITTEN


# --- MP3 --------------------------------------------------------------------------------------------------------


def clean_mp3(source: BinaryIO, target: BinaryIO) -> Result:
    from mutagen import MutagenError
    from mutagen.apev2 import APENoHeaderError, APEv2
    from mutagen.apev2 import delete as delete_ape
    from mutagen.id3 import ID3, ID3NoHeaderError
    from mutagen.id3 import delete as delete_id3

    source.seek(0)
    _copy(source, target)
    try:
        target.seek(0)
        # Reading the tags is the test of whether there are any; mutagen leaves its constructors unannotated.
        try:
            ID3(target)  # type: ignore[no-untyped-call]
            carries = True
        except ID3NoHeaderError:
            carries = _has_id3v1(target)
        try:
            APEv2(target)  # type: ignore[no-untyped-call]
            carries = True
        except APENoHeaderError:
            pass
        if not carries:
            return CLEAN
        delete_id3(target, delete_v1=True, delete_v2=True)
        delete_ape(target)
    except MutagenError:
        return _not_removed("unreadable_audio")
    target.seek(0)
    return REWRITTEN


def _has_id3v1(file: BinaryIO) -> bool:
    file.seek(0, io.SEEK_END)
    if file.tell() < 128:
        return False
    file.seek(-128, io.SEEK_END)
    return file.read(3) == b"TAG"


# --- MP4, M4A, MOV ----------------------------------------------------------------------------------------------

#: Boxes that hold children, walked to find the metadata boxes.
_CONTAINERS = {b"moov", b"trak"}
#: Boxes removed (zeroed and renamed ``free``) wherever they are found inside the containers, or at the top.
METADATA_BOXES = {b"udta", b"meta"}
_TOP_LEVEL_METADATA = {b"meta", b"uuid"}


def _boxes(file: BinaryIO, start: int, end: int) -> list[tuple[int, int, int, bytes]] | None:
    """The boxes between ``start`` and ``end``: (offset, header size, total size, type); None if malformed."""
    boxes = []
    offset = start
    while offset + 8 <= end:
        file.seek(offset)
        size, kind = struct.unpack(">I4s", file.read(8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", file.read(8))
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            return None
        boxes.append((offset, header, size, kind))
        offset += size
    return boxes


def _metadata_boxes(file: BinaryIO, start: int, end: int, top: bool) -> list[tuple[int, int, int]] | None:
    found: list[tuple[int, int, int]] = []
    boxes = _boxes(file, start, end)
    if boxes is None:
        return None
    for offset, header, size, kind in boxes:
        if kind in METADATA_BOXES or (top and kind in _TOP_LEVEL_METADATA):
            found.append((offset, header, size))
        elif kind in _CONTAINERS:
            inner = _metadata_boxes(file, offset + header, offset + size, False)
            if inner is None:
                return None
            found += inner
    return found


def clean_iso_media(source: BinaryIO, target: BinaryIO) -> Result:
    source.seek(0, io.SEEK_END)
    length = source.tell()
    found = _metadata_boxes(source, 0, length, True)
    if found is None:
        return _not_removed("unreadable_container")
    if not found:
        return CLEAN
    source.seek(0)
    _copy(source, target)
    for offset, header, size in found:
        target.seek(offset + 4)
        target.write(b"free")
        target.seek(offset + header)
        remaining = size - header
        while remaining:
            step = min(remaining, COPY_BYTES)
            target.write(bytes(step))
            remaining -= step
    target.seek(0)
    return REWRITTEN


#: The largest ``moov`` box gathered to be cleaned while a file streams: it holds the sample tables (a few MiB for an
#: hour of video), never the media. A larger one is passed on as it is and the file is held (metadata not removed).
MAX_GATHERED_BOX_BYTES = 64 * 1024 * 1024

_HEADER, _PASS, _ZERO, _GATHER, _REST = range(5)


class IsoMetadataStream:
    """:func:`clean_iso_media` for a file that streams through, in the same place and to the same bytes: top-level
    boxes pass on as they arrive (``mdat``, the media, without a copy), a top-level ``meta`` or ``uuid`` box goes on
    renamed ``free`` and zeroed, and the ``moov`` box, small, is gathered, cleaned in memory and passed on whole. The
    output has exactly the input's length (nothing is removed, only zeroed), so it can be stored with one PUT of the
    announced length while it arrives.

    A container that turns out malformed (a box larger than what is left, or shorter than its header) is passed on
    from there as it is and :meth:`finish` says ``unreadable_container``: the file is held, as one whose metadata
    could not be removed, though boxes zeroed before that point stay zeroed."""

    def __init__(self, max_gathered: int = MAX_GATHERED_BOX_BYTES) -> None:
        self._max_gathered = max_gathered
        self._mode = _HEADER
        self._left = 0
        self._pending = bytearray()
        self._modified = False
        self._reason: str | None = None

    def feed(self, chunk: bytes) -> bytes:
        """The bytes that can go on after ``chunk`` (empty while a header or the ``moov`` box is being gathered)."""
        out: list[bytes | memoryview] = []
        view = memoryview(chunk)
        while view:
            if self._mode == _REST:
                out.append(view)
                break
            if self._mode == _HEADER:
                view = self._read_header(view, out)
                continue
            step = min(self._left, len(view))
            if self._mode == _PASS:
                out.append(view[:step])
            elif self._mode == _ZERO:
                out.append(bytes(step))
            else:
                self._pending += view[:step]
            view = view[step:]
            self._left -= step
            if self._left == 0:
                if self._mode == _GATHER:
                    out.append(self._cleaned(self._pending))
                    self._pending = bytearray()
                self._mode = _HEADER
        return b"".join(out)

    def finish(self) -> tuple[bytes, Result]:
        """What is left to go on, and the outcome, once the whole input was fed."""
        rest = b""
        if self._mode != _REST and (self._pending or self._left):
            rest = bytes(self._pending)  # a box cut short by the end of the file: as it came
            self._reason = self._reason or "unreadable_container"
        self._pending = bytearray()
        if self._reason is not None:
            return rest, _not_removed(self._reason)
        return rest, REWRITTEN if self._modified else CLEAN

    def _read_header(self, view: memoryview, out: list[bytes | memoryview]) -> memoryview:
        need = 16 if len(self._pending) >= 8 and self._pending[:4] == b"\x00\x00\x00\x01" else 8
        take = min(need - len(self._pending), len(view))
        self._pending += view[:take]
        view = view[take:]
        if len(self._pending) < need:
            return view
        size, kind = struct.unpack(">I4s", self._pending[:8])
        if size == 1 and need == 8:
            return view  # a 64-bit size follows
        header = bytes(self._pending)
        self._pending = bytearray()
        if size == 1:
            (size,) = struct.unpack(">Q", header[8:16])
        if size == 0:  # the box runs to the end of the file: passed on; one that can hold metadata is not cleaned
            out.append(header)
            self._mode = _REST
            if kind in _CONTAINERS or kind in _TOP_LEVEL_METADATA:
                self._reason = "unreadable_container"
            return view
        if size < len(header):
            out.append(header)
            self._mode, self._reason = _REST, "unreadable_container"
            return view
        self._left = size - len(header)
        if kind in _TOP_LEVEL_METADATA:
            out.append(header[:4] + b"free" + header[8:])
            self._modified = True
            self._mode = _ZERO
        elif kind in _CONTAINERS and size <= self._max_gathered:
            self._pending = bytearray(header)
            self._mode = _GATHER
        else:
            if kind in _CONTAINERS:
                self._reason = "unreadable_container"
            out.append(header)
            self._mode = _PASS
        if self._left == 0:
            if self._mode == _GATHER:
                out.append(self._cleaned(self._pending))
                self._pending = bytearray()
            self._mode = _HEADER
        return view

    def _cleaned(self, box: bytearray) -> bytes:
        """A whole ``moov`` box without its metadata boxes (zeroed and renamed ``free`` in place)."""
        found = _metadata_boxes(io.BytesIO(box), 0, len(box), True)
        if found is None:
            self._reason = self._reason or "unreadable_container"
            return bytes(box)
        for offset, header, size in found:
            box[offset + 4 : offset + 8] = b"free"
            box[offset + header : offset + size] = bytes(size - header)
            self._modified = True
        return bytes(box)


# --- WAV --------------------------------------------------------------------------------------------------------

#: The RIFF chunks a WAV file needs to play; every other one is dropped.
WAV_KEPT_CHUNKS = {b"fmt ", b"fact", b"data"}


def clean_wav(source: BinaryIO, target: BinaryIO) -> Result:
    source.seek(0, io.SEEK_END)
    length = source.tell()
    source.seek(0)
    head = source.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return _not_removed("unreadable_audio")
    chunks = []
    offset = 12
    while offset + 8 <= length:
        source.seek(offset)
        kind, size = struct.unpack("<4sI", source.read(8))
        chunks.append((offset, kind, size))
        offset += 8 + size + (size & 1)
    if not any(kind == b"data" for _, kind, _ in chunks):
        return _not_removed("unreadable_audio")
    if all(kind in WAV_KEPT_CHUNKS for _, kind, _ in chunks):
        return CLEAN
    target.write(b"RIFF\x00\x00\x00\x00WAVE")
    for offset, kind, size in chunks:
        if kind not in WAV_KEPT_CHUNKS:
            continue
        source.seek(offset)
        total = min(8 + size + (size & 1), length - offset)
        _copy(source, target, total)
    riff_size = target.tell() - 8
    target.seek(4)
    target.write(struct.pack("<I", riff_size))
    target.seek(0)
    return REWRITTEN


def _copy(source: BinaryIO, target: BinaryIO, count: int | None = None) -> None:
    if count is None:
        shutil.copyfileobj(source, target, COPY_BYTES)
        return
    while count > 0:
        chunk = source.read(min(count, COPY_BYTES))
        if not chunk:
            break
        target.write(chunk)
        count -= len(chunk)


#: The cleaner of each accepted type that carries metadata besides images (those are image_metadata's).
CLEANERS: dict[str, Callable[[BinaryIO, BinaryIO], Result]] = {
    "application/pdf": clean_pdf,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": clean_office,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": clean_office,
    "audio/mpeg": clean_mp3,
    "audio/mp4": clean_iso_media,
    "video/mp4": clean_iso_media,
    "video/quicktime": clean_iso_media,
    "audio/wav": clean_wav,
}


#: The types cleaned while they stream through (:class:`IsoMetadataStream`) rather than spooled first.
STREAM_CLEANED = frozenset(media_type for media_type, cleaner in CLEANERS.items() if cleaner is clean_iso_media)


def cleaned_before_storage(media_type: str) -> bool:
    """Whether files of ``media_type`` pass through the service to lose their metadata (else they stream on)."""
    from evidence.domain.image_metadata import BEST_EFFORT, REWRITABLE

    return media_type in CLEANERS or media_type in REWRITABLE or media_type in BEST_EFFORT


def remove_file_metadata(source: BinaryIO, target: BinaryIO, media_type: str) -> Result:
    """Write ``source`` without its metadata to ``target`` (when there was any); blocking, run it in a thread."""
    cleaner = CLEANERS.get(media_type)
    if cleaner is None:
        raise ValueError(f"{media_type} has no metadata cleaner")
    return cleaner(source, target)
