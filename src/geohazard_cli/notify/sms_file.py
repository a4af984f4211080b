"""``sms-file``: the batch file an SMS platform (短信平台) imports: one row per message, number, name,
text. CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese) is appended a row at a time;
XLSX is written whole after each row (stdlib zipfile, no dependency) and never over an existing
file. "Sent" here means written to the file; the platform sends it."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from geohazard_cli.errors import InputError
from geohazard_cli.notify.interface import Message, Result

SEGMENT = 70  # characters in one SMS segment of Chinese text (UCS-2)
LONG_SEGMENT = 67  # each segment of a longer message (the rest carries the concatenation header)
HEADER = ("number", "name", "text")


def segments(text: str) -> int:
    n = len(text)
    return 1 if n <= SEGMENT else -(-n // LONG_SEGMENT)


class SmsFile:
    def __init__(self, name: str, settings: dict[str, Any], secret: str | None) -> None:
        self.name = name
        output = settings.get("output")
        if not output:
            raise InputError("--output: the sms-file channel writes a batch file; name it (a .csv or .xlsx file)")
        self.path = Path(output)
        self.kind = self.path.suffix.lower().lstrip(".")
        if self.kind not in ("csv", "xlsx"):
            raise InputError(f'--output: "{self.path}" is neither .csv nor .xlsx (the SMS platform imports those)')
        if self.kind == "xlsx" and self.path.exists():
            raise InputError(f"--output: {self.path} exists; an XLSX batch is written whole, so name a new file")
        self.rows: list[tuple[str, str, str]] = []

    def send(self, message: Message) -> Result:
        row = (message.target, message.unit, message.text)
        if self.kind == "csv":
            new = not self.path.exists() or self.path.stat().st_size == 0
            with self.path.open("a", encoding="utf-8-sig" if new else "utf-8", newline="") as f:
                w = csv.writer(f)
                if new:
                    w.writerow(HEADER)
                w.writerow(row)
                f.flush()
                os.fsync(f.fileno())
        else:
            self.rows.append(row)
            write_xlsx(self.path, [HEADER, *self.rows])
        n = segments(message.text)
        return Result(True, "written", "" if n == 1 else f"{len(message.text)} characters: {n} SMS segments",
                      {"segments": n})

    def close(self) -> None:
        return None


def write_xlsx(path: Path, rows: list[tuple[str, ...]]) -> None:
    """A one-sheet workbook of text cells (inline strings keep a number's leading zero)."""
    import zipfile

    def col(i: int) -> str:
        return chr(ord("A") + i)

    sheet_rows = "".join(
        f'<row r="{r}">' + "".join(f'<c r="{col(c)}{r}" t="inlineStr"><is><t xml:space="preserve">{escape(v)}</t>'
                                   "</is></c>" for c, v in enumerate(row)) + "</row>"
        for r, row in enumerate(rows, start=1))
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas'
        '.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
        '.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships"><sheets><sheet name="sms" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns='
        '"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas'
        '.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://'
        f'schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_rows}</sheetData></worksheet>',
    }
    tmp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    os.replace(tmp, path)
